"""The organisation's directory (Microsoft Entra ID through Microsoft Graph): who the users
and groups a share pack or a role mapping names are, checks that they exist, and the
scheduled sync of the `users` and `ad_groups` tables."""
