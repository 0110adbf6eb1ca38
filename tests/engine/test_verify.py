"""Verification after a rollback: what differs from the before-state, named field by field."""

from __future__ import annotations

from dataclasses import replace

from sharepack.engine.plan import ResourceNames
from sharepack.engine.rollback import differences
from sharepack.workspace.state import (
    AuthenticationType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

TABLE = "prod_catalog.sales.transactions"
TARGET = "prod_catalog.sales.daily"
R1 = RecipientState(name="r1", authentication_type=AuthenticationType.TOKEN, comment="c")
SALES = ShareState(name="sales", objects=(ShareObjectState(name=TABLE),), grantees=frozenset())
FEED = PipelineState(name="feed", source_asset=TABLE, target_asset=TARGET, pipeline_id="p-1")
JOB = ScheduleJobState(name="feed_schedule", pipeline_name="feed", quartz_cron="0 0 2 * * ?")
NAMES = ResourceNames(
    recipients=("r1",),
    shares=("sales",),
    objects=(TABLE, TARGET),
    pipelines=("feed",),
    jobs=("feed_schedule",),
    targets=(TARGET,),
)
BEFORE = WorkspaceState(
    recipients={"r1": R1},
    shares={"sales": SALES},
    pipelines={"feed": FEED},
    jobs={"feed_schedule": JOB},
    existing_objects=frozenset({TABLE}),
)


def test_an_unchanged_workspace_has_no_differences() -> None:
    assert differences(BEFORE, BEFORE, NAMES) == []


def test_a_recipient_difference_names_the_field_and_both_values() -> None:
    after = replace(BEFORE, recipients={"r1": replace(R1, contact_email="a@x")})

    assert differences(BEFORE, after, NAMES) == [
        "recipient 'r1': contact_email is 'a@x' (was None)"
    ]


def test_several_recipient_fields_are_named_together() -> None:
    changed = replace(R1, comment="other", allowed_ips=("10.0.0.1",))
    after = replace(BEFORE, recipients={"r1": changed})

    assert differences(BEFORE, after, NAMES) == [
        "recipient 'r1': comment is 'other' (was 'c'), allowed_ips is ('10.0.0.1',) (was ())"
    ]


def test_a_recipient_left_behind_or_gone_says_so() -> None:
    left = differences(replace(BEFORE, recipients={}), BEFORE, NAMES)
    gone = differences(BEFORE, replace(BEFORE, recipients={}), NAMES)

    assert left == ["recipient 'r1' exists (it did not before)"]
    assert gone == ["recipient 'r1' is missing (it existed before)"]


def test_share_differences_name_comment_objects_and_grants() -> None:
    changed = replace(
        SALES,
        comment="new",
        objects=(ShareObjectState(name=TARGET),),
        grantees=frozenset({"r1"}),
    )

    found = differences(BEFORE, replace(BEFORE, shares={"sales": changed}), NAMES)

    assert found == [
        "share 'sales': comment is 'new' (was '')",
        f"share 'sales': objects +['{TARGET}'] -['{TABLE}']",
        "share 'sales': grants +['r1'] -[]",
    ]


def test_a_pipeline_difference_names_the_field_not_the_id() -> None:
    changed = replace(FEED, key_columns=("id",), pipeline_id="p-2")

    found = differences(BEFORE, replace(BEFORE, pipelines={"feed": changed}), NAMES)

    assert found == ["pipeline 'feed': key_columns is ('id',) (was ())"]


def test_a_job_difference_names_the_field() -> None:
    changed = replace(JOB, quartz_cron="0 0 5 * * ?", job_id=3)

    found = differences(BEFORE, replace(BEFORE, jobs={"feed_schedule": changed}), NAMES)

    assert found == [
        "schedule job 'feed_schedule': quartz_cron is '0 0 5 * * ?' (was '0 0 2 * * ?')"
    ]


def test_a_table_produced_during_the_run_that_remains_is_reported() -> None:
    # An existing pipeline's update produced the target; undoing the update (NOTHING)
    # leaves the table, and the pipeline is not the run's to delete.
    after = replace(BEFORE, existing_objects=frozenset({TABLE, TARGET}))

    assert differences(BEFORE, after, NAMES) == [
        f"table '{TARGET}' exists (it did not before): produced during the run"
    ]


def test_a_produced_table_that_existed_before_is_no_difference() -> None:
    before = replace(BEFORE, existing_objects=frozenset({TABLE, TARGET}))

    assert differences(before, before, NAMES) == []


FULL_OBJECT = ShareObjectState(
    name=TABLE,
    shared_as="partner.transactions",
    comment="for the partner",
    cdf_enabled=True,
    history_data_sharing_status=HistoryDataSharingStatus.ENABLED,
    start_version=3,
    partitions=(
        Partition(values=(PartitionValue(name="region", op=PartitionOp.EQUAL, value="eu"),)),
    ),
)


def _with_objects(*objects: ShareObjectState) -> WorkspaceState:
    return replace(BEFORE, shares={"sales": replace(SALES, objects=objects)})


def test_an_object_restored_without_a_field_names_the_object_and_the_field() -> None:
    before = _with_objects(FULL_OBJECT)
    after = _with_objects(replace(FULL_OBJECT, cdf_enabled=False, comment=""))

    assert differences(before, after, NAMES) == [
        f"share 'sales': object '{TABLE}' comment is '' (was 'for the partner'), "
        "cdf_enabled is False (was True)"
    ]


def test_an_object_restored_without_its_history_or_partitions_is_reported() -> None:
    before = _with_objects(FULL_OBJECT)
    after = _with_objects(
        replace(
            FULL_OBJECT,
            history_data_sharing_status=HistoryDataSharingStatus.DISABLED,
            partitions=(),
        )
    )

    assert differences(before, after, NAMES) == [
        f"share 'sales': object '{TABLE}' history_data_sharing_status is 'DISABLED' (was "
        "'ENABLED'), partitions is () (was "
        f"{FULL_OBJECT.partitions!r})"
    ]


def test_objects_in_another_order_are_no_difference() -> None:
    other = ShareObjectState(name=TARGET, comment="x")

    assert (
        differences(_with_objects(FULL_OBJECT, other), _with_objects(other, FULL_OBJECT), NAMES)
        == []
    )


def test_a_recipient_restored_without_its_other_properties_or_expiry_is_reported() -> None:
    full = replace(R1, properties=(("partner.tier", "gold"),), expiration_time=1_900_000_000_000)
    before = replace(BEFORE, recipients={"r1": full})
    after = replace(BEFORE, recipients={"r1": replace(full, properties=(), expiration_time=None)})

    assert differences(before, after, NAMES) == [
        "recipient 'r1': properties is () (was (('partner.tier', 'gold'),)), "
        "expiration_time is None (was 1900000000000)"
    ]
