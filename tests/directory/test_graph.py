"""`GraphDirectory` against the local Graph stand-in, through the real msgraph-sdk and
azure-identity: lookups, paging, and every way Graph can fail to answer."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import replace

import pytest

from sharepack.directory.graph import GraphDirectory, GraphSettings
from sharepack.directory.protocol import DirectoryGroup, DirectoryUser
from sharepack.errors import ConfigurationError, DirectoryUnavailableError
from tests.directory.graph_standin import GraphStandin, StandinGroup, StandinUser

ANA = StandinUser(
    "3f2a8c1e-0b4d-4c6e-8f10-2a3b4c5d6e01", "ana@corp.example", "Ana.Lopez@corp.example", "Ana"
)
BEN = StandinUser(
    "3f2a8c1e-0b4d-4c6e-8f10-2a3b4c5d6e02", "ben@corp.example", None, "Ben", enabled=False
)
OBRIEN = StandinUser(
    "3f2a8c1e-0b4d-4c6e-8f10-2a3b4c5d6e03", "sean.o'brien@corp.example", "sean.o'brien@corp.example"
)
ANALYSTS = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_users_are_found_by_mail_or_upn_ignoring_case(
    standin: GraphStandin, graph: GraphDirectory
) -> None:
    standin.add_users([ANA, BEN])

    found = graph.find_users(["ana.lopez@CORP.example", "ana@corp.example", "ben@corp.example"])

    ana = DirectoryUser(ANA.id, "Ana.Lopez@corp.example", "Ana", "ana@corp.example", True)
    assert found == {
        "ana.lopez@CORP.example": ana,
        "ana@corp.example": ana,
        # No mailbox: known by the UPN, and disabled.
        "ben@corp.example": DirectoryUser(BEN.id, "ben@corp.example", "Ben", BEN.upn, False),
    }


def test_an_unknown_address_is_none(standin: GraphStandin, graph: GraphDirectory) -> None:
    standin.add_users([ANA])

    assert graph.find_users(["nobody@corp.example"]) == {"nobody@corp.example": None}


def test_an_address_with_a_quote_is_looked_up_as_written(
    standin: GraphStandin, graph: GraphDirectory
) -> None:
    standin.add_users([OBRIEN, replace(ANA, mail="x@corp.example")])

    found = graph.find_users(["sean.o'brien@corp.example", "x' or mail eq 'x@corp.example"])

    assert found["sean.o'brien@corp.example"] is not None
    assert found["sean.o'brien@corp.example"].object_id == OBRIEN.id
    # The quote stays inside the literal: no second clause is smuggled into the filter.
    assert found["x' or mail eq 'x@corp.example"] is None


def test_many_addresses_stay_within_graphs_filter_limit(
    standin: GraphStandin, graph: GraphDirectory
) -> None:
    people = [
        StandinUser(f"00000000-0000-4000-8000-{n:012d}", f"p{n}@corp.example") for n in range(20)
    ]
    standin.add_users(people)

    found = graph.find_users([p.upn for p in people])

    assert [user.object_id if user else None for user in found.values()] == [p.id for p in people]
    assert len(standin.graph_requests("/users")) == 3


def test_groups_are_found_by_object_id(standin: GraphStandin, graph: GraphDirectory) -> None:
    standin.add_groups([StandinGroup(ANALYSTS, "Sales Analysts", [ANA.id])])
    unknown = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"

    found = graph.find_groups([ANALYSTS.upper(), unknown, "Sales Analysts"])

    assert found == {
        ANALYSTS.upper(): DirectoryGroup(ANALYSTS, "Sales Analysts", None),
        unknown: None,
        "Sales Analysts": None,  # not an object id: no group, and not asked
    }
    assert len(standin.graph_requests(f"/groups/{unknown}")) == 1
    assert [r.path for r in standin.requests if "Sales" in r.path] == []


def test_every_user_and_group_across_pages(standin: GraphStandin, graph: GraphDirectory) -> None:
    standin.page_size = 2
    standin.add_users(
        [ANA, BEN, OBRIEN, replace(ANA, id=ANA.id[:-1] + "9", upn="zoe@corp.example")]
    )
    standin.add_users([StandinUser("3f2a8c1e-0b4d-4c6e-8f10-2a3b4c5d6e08", "yan@corp.example")])
    standin.add_groups(
        StandinGroup(f"7c9e6679-7425-40de-944b-e07fc1f90a{n:02d}", f"Group {n}") for n in range(5)
    )
    standin.groups[f"7c9e6679-7425-40de-944b-e07fc1f90a{0:02d}"].member_ids = list(standin.users)

    users = list(graph.all_users())
    groups = list(graph.all_groups())

    assert [u.user_principal_name for u in users] == [u.upn for u in standin.users.values()]
    assert len(standin.graph_requests("/users")) == 3
    assert [g.display_name for g in groups] == [f"Group {n}" for n in range(5)]
    assert len(standin.graph_requests("/groups")) == 3
    assert groups[0].members == (
        "Ana.Lopez@corp.example",
        "ben@corp.example",
        "sean.o'brien@corp.example",
        "Ana.Lopez@corp.example",
        "yan@corp.example",
    )
    assert [g.members for g in groups[1:]] == [()] * 4
    members_path = f"/groups/{groups[0].object_id}/members/graph.user"
    assert len(standin.graph_requests(members_path)) == 3


def test_a_refused_credential_is_unavailable_without_the_secret(
    standin: GraphStandin, graph_settings: GraphSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = replace(graph_settings, client_secret="wrong-secret-Zq8~never-shown")

    with GraphDirectory(wrong) as graph, pytest.raises(DirectoryUnavailableError) as raised:
        graph.find_users(["ana@corp.example"])

    message = raised.value.message
    assert message.startswith(f"Microsoft Graph at {standin.graph_url} could not be used:")
    assert "refused the credential of application" in message
    assert "AADSTS7000215" in message
    assert "wrong-secret" not in message
    assert "wrong-secret" not in caplog.text
    assert standin.graph_requests("/users") == []


def test_graph_down_is_unavailable(standin: GraphStandin, graph_settings: GraphSettings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = replace(graph_settings, graph_url=f"https://127.0.0.1:{port}/v1.0")

    with GraphDirectory(down) as graph, pytest.raises(DirectoryUnavailableError) as raised:
        graph.find_groups([ANALYSTS])

    assert raised.value.message.startswith(
        f"Microsoft Graph at https://127.0.0.1:{port}/v1.0 could not be used: cannot connect"
    )


def test_a_throttled_request_is_sent_again(
    standin: GraphStandin, graph_settings: GraphSettings
) -> None:
    standin.add_users([ANA])
    standin.fail_graph(503, times=1, retry_after=1)

    with GraphDirectory(replace(graph_settings, max_retries=1)) as graph:
        found = graph.find_users([ANA.upn])

    assert found[ANA.upn] is not None
    assert len(standin.graph_requests("/users")) == 2


def test_5xx_after_the_retries_is_unavailable(
    standin: GraphStandin, graph_settings: GraphSettings
) -> None:
    standin.fail_graph(503, times=2, retry_after=1)

    with (
        GraphDirectory(replace(graph_settings, max_retries=1)) as graph,
        pytest.raises(DirectoryUnavailableError, match="Graph answered 503"),
    ):
        list(graph.all_users())

    assert len(standin.graph_requests("/users")) == 2


def test_missing_permissions_are_named(standin: GraphStandin, graph: GraphDirectory) -> None:
    standin.fail_graph(403, times=1)

    with pytest.raises(DirectoryUnavailableError) as raised:
        list(graph.all_groups())

    assert "Graph answered 403" in raised.value.message
    assert "User.Read.All and GroupMember.Read.All" in raised.value.message


def test_one_sign_in_serves_threads_and_callers_inside_an_event_loop(
    standin: GraphStandin, graph: GraphDirectory
) -> None:
    standin.add_users([ANA, BEN])
    answers: list[bool] = []

    def look_up() -> None:
        answers.append(graph.find_users([ANA.upn])[ANA.upn] is not None)

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def from_a_coroutine() -> DirectoryUser | None:
        return graph.find_users([BEN.upn])[BEN.upn]

    assert answers == [True] * 4
    assert asyncio.run(from_a_coroutine()) is not None
    tokens = [r for r in standin.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert len(tokens) == 1


def test_settings_that_cannot_work_are_refused_by_name(graph_settings: GraphSettings) -> None:
    with pytest.raises(ConfigurationError, match="authority_host must be an https URL"):
        GraphDirectory(replace(graph_settings, authority_host="http://login.example"))
    with pytest.raises(ConfigurationError, match="client_secret is empty"):
        GraphDirectory(replace(graph_settings, client_secret=" "))
    assert graph_settings.client_secret not in repr(graph_settings)
