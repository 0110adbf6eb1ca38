"""Who is calling and what they may do: principals and roles, API keys, OIDC tokens,
the role mapping. A leaf beside `errors`: it imports nothing else of ours."""
