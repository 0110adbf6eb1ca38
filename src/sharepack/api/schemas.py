"""Response bodies of the REST API, with the PascalCase keys of the contract.

Every key is described, and every key an answer always carries (null included) is marked
required in the OpenAPI document: a field with a default is still always sent.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal


class PascalModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        json_schema_serialization_defaults_required=True,
    )


class ValidationMessage(PascalModel):
    """One located problem of an invalid share pack file."""

    location: str = Field(description="Where: the file and line:column, or the sheet's cell")
    field: str = Field(description="The field's path in the pack, e.g. share[0].recipients[1]")
    message: str = Field(description="What is wrong and, where it can, what to write instead")


class UploadResponse(PascalModel):
    """The answer to an upload: accepted (202), or an invalid pack (400, nothing stored)."""

    message: str = Field(description="What happened to the upload, in a sentence")
    share_pack_id: str | None = Field(
        default=None, description="The pack's id, to poll its status with; null when refused"
    )
    share_pack_name: str | None = Field(
        default=None, description="The pack's name, SharePack_<requestor>_<time>; null when refused"
    )
    status: str = Field(
        description="IN_PROGRESS when accepted (poll GET /workflow/sharepack/{id}); "
        "VALIDATION_FAILED when refused"
    )
    approval_state: str | None = Field(
        default=None,
        description="AWAITING_APPROVAL when the approval policy wants the pack's plan "
        "approved first (Status stays IN_PROGRESS); null otherwise",
    )
    validation_errors: list[str] = Field(
        default=[], description="Every problem, one line each with its place; empty when accepted"
    )
    validation_warnings: list[str] = Field(
        default=[],
        description="What the upload changed or could not check, e.g. strategy NEW switched "
        "to UPDATE because resources exist",
    )
    validation_details: list[ValidationMessage] = Field(
        default=[], description="The problems of an invalid file, each with location and field"
    )


class SharePackStatusResponse(PascalModel):
    """A share pack as it is now."""

    share_pack_id: str = Field(description="The pack's id")
    share_pack_name: str = Field(description="The pack's name")
    status: str = Field(description="IN_PROGRESS, COMPLETED, FAILED or VALIDATION_FAILED")
    strategy: str = Field(description="NEW or UPDATE, as the pack is applied")
    provisioning_status: str = Field(description="The run's progress, in words; may be empty")
    error_message: str = Field(description="Why the run failed, and what remains; may be empty")
    requested_by: str = Field(description="The pack's requestor (an email), as its file names")
    submitted_by: str | None = Field(
        default=None,
        description="Who submitted it, as authenticated: a user, key:<name> for an API key, "
        "or cli:<OS user> (Databricks: <user>) for an operator; null for packs stored "
        "before identity was recorded",
    )
    created_at: str = Field(description="When the pack was uploaded, ISO 8601")
    last_updated: str = Field(description="When the pack last changed, ISO 8601")
    workspace_url: str = Field(description="The workspace the pack is for, in canonical form")
    rollback_status: str | None = Field(
        default=None,
        description="What happened to a failed run's changes: NOT_NEEDED, ROLLED_BACK, "
        "ROLLED_BACK_WITH_CONFLICTS, ROLLBACK_FAILED or LEFT_IN_PLACE; null before the run ends",
    )
    approval_state: str | None = Field(
        default=None,
        description="AWAITING_APPROVAL (Status stays IN_PROGRESS), APPROVED or REJECTED; null "
        "when the approval policy asks none for the pack's plan",
    )
    not_before: str | None = Field(
        default=None, description="The run starts no earlier (ISO 8601 UTC); null: at once"
    )
    batch_id: str | None = Field(
        default=None, description="The batch the pack was uploaded in; null: on its own"
    )


class HealthResponse(PascalModel):
    """Whether the service's parts answer."""

    message: str = Field(description="Healthy or unhealthy, in words")
    database_connected: bool = Field(description="The database answered a query")
    queue_connected: bool = Field(description="The queue answered")
    tables_count: int = Field(description="How many of the 16 deltashare tables exist")


class ErrorResponse(PascalModel):
    """An error the caller can act on."""

    message: str = Field(description="What went wrong and what to change")
    error_code: str = Field(description="The error's kind, e.g. NOT_FOUND or BAD_REQUEST")


class InternalErrorResponse(PascalModel):
    """An unexpected failure: its details are in the server's log under `ErrorId`."""

    message: str = Field(description="That it failed, with the reference to quote")
    error_code: str = Field(
        description="INTERNAL_ERROR, CONFIGURATION_ERROR, DATABASE_UNAVAILABLE, "
        "DATABASE_NOT_MIGRATED or QUEUE_UNAVAILABLE"
    )
    error_id: str = Field(description="The id the server's log has the details under")


class RotateTokenRequest(PascalModel):
    """How long the recipient's earlier token keeps working once the new one is issued."""

    model_config = ConfigDict(extra="forbid")

    existing_token_expire_in_seconds: int | None = Field(
        default=None,
        ge=0,
        description="Seconds the earlier token keeps working (0: it stops now); default "
        "3600, so the partner can switch without a gap. A rotation never lengthens a token "
        "that already expires sooner.",
    )


class RotateTokenResponse(PascalModel):
    """A rotated token: the new activation link, shown in this answer only."""

    recipient_name: str = Field(description="The recipient, as the workspace names it")
    activation_url: str = Field(
        description="The new token's activation link: the partner opens it once to download "
        "its credential. Shown only in this answer and kept nowhere: send it to the partner "
        "over a secure channel"
    )
    token_expiration_time: str | None = Field(
        default=None, description="When the new token expires, ISO 8601 UTC; null: never"
    )
    existing_tokens_expire_at: str | None = Field(
        default=None,
        description="When the earlier token stops working, ISO 8601 UTC; null: it already has",
    )
    message: str = Field(description="What to do with the link, and what became of the old token")


class DecisionRequest(PascalModel):
    """An approver's decision: a comment is optional to approve, required to reject."""

    comment: str = Field(default="", max_length=2000, description="Why, in words")


class RequirementView(PascalModel):
    """One group's approvals a level of the plan needs."""

    level: int = Field(description="Levels are approved in order, 1 first")
    group: str = Field(description="The approver group, as the policy names it")
    count: int = Field(description="Distinct approvers the group must give")
    approved: int = Field(description="Approvals given for this plan that still count")
    reasons: list[str] = Field(description="Which rule asked for it, and on what")


class DecisionView(PascalModel):
    """A decision recorded on the pack."""

    level: int = Field(description="The level it was given at")
    group: str = Field(description="The group it counted for (empty for a rejection)")
    approver: str = Field(description="Who decided, as authenticated")
    decision: str = Field(description="APPROVED or REJECTED")
    comment: str = Field(description="Their comment; may be empty")
    at: str = Field(description="When, ISO 8601 UTC")
    for_current_plan: bool = Field(
        description="Whether it was given for the plan the pack waits with now (one given "
        "for an earlier plan no longer counts)"
    )


class ApprovalResponse(PascalModel):
    """A pack's approval: its plan as `sharepack plan` prints it, what it needs, and who
    decided what."""

    share_pack_id: str = Field(description="The pack's id")
    share_pack_name: str = Field(description="The pack's name")
    status: str = Field(description="IN_PROGRESS, COMPLETED, FAILED or VALIDATION_FAILED")
    approval_state: str | None = Field(
        description="AWAITING_APPROVAL, APPROVED, REJECTED; null: no approval needed"
    )
    provisioning_status: str = Field(description="The pack's progress line")
    plan: list[str] = Field(description="The plan's lines, as `sharepack plan` prints them")
    changed: list[str] = Field(
        description="How the plan differs from the one approved before (a run found the "
        "workspace changed); empty otherwise"
    )
    requirements: list[RequirementView] = Field(description="What the plan needs approved")
    decisions: list[DecisionView] = Field(description="Every decision, oldest first")


class BatchPackAccepted(PascalModel):
    """One pack of an accepted batch."""

    file_name: str = Field(description="The file it came from (a zip's entry name, with folders)")
    share_pack_id: str = Field(description="The pack's id, to poll its status with")
    share_pack_name: str = Field(description="The pack's name, SharePack_<requestor>_<time>")
    status: str = Field(description="IN_PROGRESS: queued for provisioning")
    validation_warnings: list[str] = Field(
        default=[], description="What the upload changed or could not check, for this file"
    )


class BatchUploadResponse(PascalModel):
    """An accepted batch (202): every pack stored and queued, in one transaction."""

    message: str = Field(description="What happened to the batch, in a sentence")
    batch_id: str = Field(description="The batch's id, to poll with GET /workflow/batch/{id}")
    status: str = Field(description="IN_PROGRESS: the packs are queued")
    share_packs: list[BatchPackAccepted] = Field(description="Each pack, in the batch's order")
    validation_warnings: list[str] = Field(
        default=[],
        description="About the batch rather than one file: a zip's entries skipped "
        "(folders, macOS metadata)",
    )


class BatchFileErrors(PascalModel):
    """One file of a refused batch, with its errors (none: the file itself was valid)."""

    file_name: str = Field(description="The file (a zip's entry name, or the zip's own)")
    validation_errors: list[str] = Field(
        description="Every problem of the file, one line each with its place; empty when "
        "the file was valid but another was not"
    )
    validation_warnings: list[str] = Field(
        default=[], description="What would have been changed or could not be checked"
    )


class BatchRejectedResponse(PascalModel):
    """A refused batch (400): nothing of it was stored."""

    message: str = Field(description="That the batch was refused, and why, in a sentence")
    status: str = Field(description="VALIDATION_FAILED")
    validation_errors: list[str] = Field(
        default=[],
        description="What is wrong with the batch as a whole (too many files); empty when "
        "only files are wrong",
    )
    files: list[BatchFileErrors] = Field(
        default=[], description="Every file of the batch, each with its errors or none"
    )


class BatchPackStatus(PascalModel):
    """One pack of a batch, as it is now."""

    file_name: str = Field(description="The file it came from")
    share_pack_id: str = Field(description="The pack's id")
    share_pack_name: str = Field(description="The pack's name")
    status: str = Field(description="IN_PROGRESS, COMPLETED or FAILED")
    provisioning_status: str = Field(description="The run's progress, in words; may be empty")
    error_message: str = Field(description="Why the run failed, and what remains; may be empty")
    rollback_status: str | None = Field(
        default=None,
        description="What happened to a failed run's changes (as for one pack); null before "
        "the run ends",
    )


class BatchStatusResponse(PascalModel):
    """A batch as it is now: its packs, how many are in each status, and its own status."""

    batch_id: str = Field(description="The batch's id")
    status: str = Field(
        description="IN_PROGRESS while any pack is; COMPLETED when every pack is; else FAILED"
    )
    submitted_by: str = Field(description="Who submitted the batch, as authenticated")
    created_at: str = Field(description="When the batch was uploaded, ISO 8601")
    counts: dict[str, int] = Field(
        description="How many of its packs are in each Status (every Status named, 0 included)"
    )
    share_packs: list[BatchPackStatus] = Field(description="Each pack, in the batch's order")


class ProjectVersionInfo(PascalModel):
    """One version of a project: a completed run, a rollback, or drift recorded."""

    version_id: str = Field(description="The version's id (the first 8 characters suffice)")
    number: int = Field(description="Its number within the project, from 1")
    kind: str = Field(description="APPLIED, ROLLBACK (it put VersionId Restores back) or RECORDED")
    project_name: str = Field(description="The project's name")
    business_line: str = Field(description="The project's business line")
    workspace_url: str = Field(description="The workspace the version is of")
    share_pack_id: str | None = Field(description="The pack whose run made it; null: recorded")
    restores: str | None = Field(description="The version a rollback put back; else null")
    created_at: str = Field(description="When it was made, ISO 8601")
    created_by: str = Field(description="Who made it")
    change_reason: str = Field(description="Why, in words")
    changes: list[str] = Field(description="What it changed, as `sharepack plan` prints it")
    states_kept: bool = Field(
        description="False once the snapshot retention removed its states: it can still be "
        "rolled back to, not compared"
    )


class ProjectVersionsResponse(PascalModel):
    """A project's versions, newest first."""

    project_id: str = Field(description="The project's id")
    versions: list[ProjectVersionInfo] = Field(description="Newest first")


class RollbackRequest(PascalModel):
    """Which version to roll the project back to, and whether only to plan it."""

    version_id: str = Field(description="The version's id, or its first 8 characters or more")
    dry_run: bool = Field(default=False, description="Return the plan; store and change nothing")


class RollbackResponse(PascalModel):
    """A rollback planned (DryRun) or accepted: the plan and where it cannot be exact."""

    version_id: str = Field(description="The version rolled back to")
    number: int = Field(description="Its number within the project")
    dry_run: bool = Field(description="True: nothing was stored or changed")
    plan: list[str] = Field(description="The plan as `sharepack plan` prints it")
    notes: list[str] = Field(
        description="Warnings, and where the result cannot be exactly the version (a TOKEN "
        "recipient made again has a new activation link; a pipeline made again rebuilds "
        "its table); pipelines the version did not have are kept"
    )
    share_pack_id: str | None = Field(description="The rollback's pack (null on a dry run)")
    status: str | None = Field(description="The pack's Status (IN_PROGRESS); null on a dry run")
    provisioning_status: str | None = Field(description="Queued, or awaiting approval")
    approval_state: str | None = Field(description="AWAITING_APPROVAL when the policy asks")
