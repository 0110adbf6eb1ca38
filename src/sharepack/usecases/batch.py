"""Use cases: accept several share packs at once (parts of one request, or one zip), all
or none; and say how a batch is doing."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sharepack.cron import CronError
from sharepack.errors import NotFoundError, PermissionDeniedError, PlanError, SharePackError
from sharepack.identity.principal import Caller
from sharepack.observability.metrics import Phase, timed_phase
from sharepack.packfile import LoadedSharePack, ReadLimits, load_share_pack
from sharepack.packfile.archive import ArchiveError, ZipLimits, inspect_zip, is_zip
from sharepack.packfile.errors import Problem, SpecError
from sharepack.packfile.models import Strategy
from sharepack.running.awaiting import PendingApproval, pending_approval
from sharepack.running.status import PackStatus
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.usecases.audit import Act, record, record_refusal
from sharepack.usecases.directory_check import directory_rule
from sharepack.usecases.submit import (
    SubmittedPack,
    check_may_submit,
    check_workspace_allowed,
    preview_strategy,
    record_refused_upload,
    write_share_pack,
)

#: The caller's mistakes in one file: listed with the others' instead of ending the batch.
_FILE_MISTAKES = (SpecError, PlanError, CronError)


@dataclass(frozen=True)
class FileProblems:
    """One file of a refused batch: its errors (none: it was valid) and warnings."""

    file_name: str
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()


class BatchRejectedError(SharePackError):
    """The batch is refused; nothing of it was stored. `files` lists every file, with its
    errors (or none), and `problems` what is wrong with the batch as a whole."""

    def __init__(self, files: Sequence[FileProblems], problems: Sequence[Problem] = ()) -> None:
        self.files = tuple(files)
        self.problems = tuple(problems)
        wrong = [
            f"{f.file_name} ({_counted(len(f.errors), 'error')})" for f in self.files if f.errors
        ]
        said = [*(str(p) for p in self.problems), *wrong[:5]]
        more = f" and {len(wrong) - 5} more" if len(wrong) > 5 else ""
        super().__init__(f"The batch is refused, nothing of it stored: {'; '.join(said)}{more}")


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass(frozen=True)
class SubmittedBatch:
    batch_id: uuid.UUID
    packs: tuple[tuple[str, SubmittedPack], ...]  # (file name, pack), in the batch's order
    warnings: tuple[Problem, ...] = ()  # about the batch, not one pack: entries skipped


@dataclass(frozen=True)
class _Checked:
    """A file that passed every check, ready to store."""

    file_name: str
    loaded: LoadedSharePack
    strategy: Strategy
    warnings: tuple[Problem, ...]
    pending: PendingApproval | None = None  # the plan the approval policy wants approved


def submit_batch(
    runtime: Runtime, *, files: list[tuple[str, bytes]], workspace_url: str, caller: Caller
) -> SubmittedBatch:
    """Validate every file (a single zip: every file in it), then store the batch and all
    its packs, each with its queue message, in one transaction.

    Raises `BatchRejectedError` listing every file's errors, `PermissionDeniedError`
    naming the file the caller may not submit, or `WorkspaceNotAllowedError`; then
    nothing is stored but the refusal's audit row.
    """
    label = _label(files)
    try:
        if not caller.principal.submits_anywhere:
            raise PermissionDeniedError(
                f"{caller.name} may not upload share packs: no requestor role for any business line"
            )
        target = check_workspace_allowed(runtime, workspace_url)
        checked, warnings = _check_all(runtime, _expand(runtime, files), target, caller)
    except SharePackError as refused:
        record_refused_upload(runtime, caller, refused, label)
        raise
    return _store(runtime, checked, target, caller, warnings)


def _label(files: list[tuple[str, bytes]]) -> str:
    names = ", ".join(name for name, _ in files[:3])
    return f"batch of {_counted(len(files), 'file')} ({names}{', ...' if len(files) > 3 else ''})"


def _expand(
    runtime: Runtime, files: list[tuple[str, bytes]]
) -> list[tuple[str, bytes | FileProblems]]:
    """The batch's files: a single zip's entries (a refused entry as its problems), or the
    parts as they are; `BatchRejectedError` for too many, or an archive refused whole."""
    settings = runtime.settings
    if len(files) == 1 and is_zip(files[0][1]):
        name, content = files[0]
        limits = ZipLimits(
            max_files=settings.sharepack_batch_max_files,
            max_entry_bytes=settings.sharepack_max_upload_bytes,
            max_total_bytes=settings.sharepack_batch_max_total_bytes,
        )
        try:
            contents = inspect_zip(content, name, limits)
        except ArchiveError as refused:
            raise BatchRejectedError([FileProblems(name, refused.problems)]) from None
        files_by_name = dict(contents.files)
        entries: list[tuple[str, bytes | FileProblems]] = [
            (entry, FileProblems(entry, contents.refused[entry]))
            if entry in contents.refused
            else (entry, files_by_name[entry])
            for entry in contents.order
        ]
        if contents.warnings:
            entries = [*entries, (name, FileProblems(name, (), contents.warnings))]
        return entries
    if len(files) > settings.sharepack_batch_max_files:
        too_many = Problem(
            "",
            "",
            f"The batch has {len(files)} files; at most {settings.sharepack_batch_max_files} "
            "are accepted (SHAREPACK_BATCH_MAX_FILES): split it",
        )
        raise BatchRejectedError([], [too_many])
    return list(files)


def _check_all(
    runtime: Runtime,
    files: list[tuple[str, bytes | FileProblems]],
    target: str,
    caller: Caller,
) -> tuple[list[_Checked], tuple[Problem, ...]]:
    """Every file checked as a single upload is, and the batch's own warnings;
    `BatchRejectedError` listing every file if any has errors. A file the caller may not
    submit ends the check at once."""
    verdicts: list[_Checked | FileProblems] = []
    seen: set[str] = set()
    for name, content in files:
        if isinstance(content, FileProblems):
            verdicts.append(content)
        elif name.casefold() in seen:
            same = "Another file of the batch has this name: give each file its own"
            verdicts.append(FileProblems(name, (Problem(name, "", same),)))
        elif is_zip(content):
            alone = "A zip archive among other files: send the zip alone, or the files as parts"
            verdicts.append(FileProblems(name, (Problem(name, "", alone),)))
        else:
            verdicts.append(_check_one(runtime, name, content, target, caller))
        seen.add(name.casefold())
    if any(isinstance(v, FileProblems) and v.errors for v in verdicts):
        raise BatchRejectedError([_as_problems(v) for v in verdicts])
    notes = tuple(w for v in verdicts if isinstance(v, FileProblems) for w in v.warnings)
    return [v for v in verdicts if isinstance(v, _Checked)], notes


def _as_problems(verdict: _Checked | FileProblems) -> FileProblems:
    if isinstance(verdict, FileProblems):
        return verdict
    return FileProblems(verdict.file_name, (), verdict.warnings)


def _check_one(
    runtime: Runtime, name: str, content: bytes, target: str, caller: Caller
) -> _Checked | FileProblems:
    """The checks of a single upload, in its order; a file's mistakes are returned."""
    limits = ReadLimits(max_bytes=runtime.settings.sharepack_max_upload_bytes)
    try:
        with timed_phase(Phase.VALIDATE):
            loaded = load_share_pack(
                content, name, limits=limits, extra_rules=(directory_rule(runtime.directory),)
            )
        try:
            check_may_submit(caller, loaded.config)
        except PermissionDeniedError as denied:
            raise PermissionDeniedError(f"{name}: {denied.message}") from None
        strategy, notes, preview = preview_strategy(runtime, loaded.config, target)
    except SpecError as invalid:
        return FileProblems(name, invalid.problems, invalid.warnings)
    except _FILE_MISTAKES as mistake:
        return FileProblems(name, (Problem(name, "", mistake.message),))
    notes_here = (Problem(name, note.field, note.message) for note in notes)
    line = loaded.config.metadata.business_line
    pending = pending_approval(runtime, preview, line) if preview is not None else None
    return _Checked(name, loaded, strategy, (*loaded.warnings, *notes_here), pending)


def _store(
    runtime: Runtime,
    checked: list[_Checked],
    target: str,
    caller: Caller,
    warnings: tuple[Problem, ...],
) -> SubmittedBatch:
    """The batch's row and every pack with its message, committed together."""
    batch_id = uuid.uuid4()
    with runtime.database.unit_of_work() as uow:
        uow.batches.create(batch_id, submitted_by=caller.name, file_count=len(checked))
        record(
            uow,
            caller,
            Act.UPLOAD,
            entity_type="batch",
            entity_id=batch_id,
            details={"files": [c.file_name for c in checked], "workspace_url": target},
        )
        packs = tuple(
            (
                c.file_name,
                write_share_pack(
                    runtime,
                    uow,
                    c.loaded,
                    c.strategy,
                    c.warnings,
                    filename=c.file_name,
                    workspace_url=target,
                    caller=caller,
                    batch_id=batch_id,
                    pending=c.pending,
                ),
            )
            for c in checked
        )
        uow.commit()
    return SubmittedBatch(batch_id, packs, warnings)


@dataclass(frozen=True)
class BatchPack:
    file_name: str
    share_pack_id: uuid.UUID
    share_pack_name: str
    status: str
    provisioning_status: str
    error_message: str
    rollback_status: str | None


@dataclass(frozen=True)
class BatchSummary:
    """A batch's packs as they are now, how many are in each status, and the batch's
    status: IN_PROGRESS while any pack is, COMPLETED when all are, else FAILED."""

    batch_id: uuid.UUID
    submitted_by: str
    created_at: datetime
    packs: tuple[BatchPack, ...]
    counts: dict[str, int]
    status: PackStatus


def batch_summary(runtime: Runtime, batch_id: uuid.UUID, caller: Caller) -> BatchSummary:
    """The batch as it is now; `NotFoundError` for an unknown id, and for a batch with a
    pack of a business line `caller` may not read (audited; told apart from neither)."""
    with runtime.database.reading() as uow:
        batch = uow.batches.get(batch_id)
        records = uow.batches.packs(batch_id)
    hidden = sorted({r.business_line or "" for r in records} - _readable(caller, records))
    if hidden:
        lines = ", ".join(f"'{line}'" for line in hidden)
        record_refusal(
            runtime,
            Act.READ,
            f"{caller.name} may not read batch {batch_id}: it holds packs of business line {lines}",
            caller=caller,
            entity_type="batch",
            entity_id=batch_id,
        )
        # The store's words for an unknown batch: a refused read cannot be told from one.
        raise NotFoundError(f"No batch with id '{batch_id}'")
    counts = Counter(r.share_pack_status for r in records)
    return BatchSummary(
        batch_id=batch.batch_id,
        submitted_by=batch.submitted_by,
        created_at=batch.created_at,
        packs=tuple(_pack(r) for r in records),
        counts={status.value: counts.get(status.value, 0) for status in PackStatus},
        status=overall_status([r.share_pack_status for r in records]),
    )


def _readable(caller: Caller, records: list[SharePackRecord]) -> set[str]:
    lines = {r.business_line or "" for r in records}
    return {line for line in lines if caller.principal.may_read(line)}


def overall_status(statuses: Sequence[str]) -> PackStatus:
    """IN_PROGRESS while any pack is, COMPLETED when every pack is, else FAILED."""
    if PackStatus.IN_PROGRESS.value in statuses:
        return PackStatus.IN_PROGRESS
    if all(s == PackStatus.COMPLETED.value for s in statuses):
        return PackStatus.COMPLETED
    return PackStatus.FAILED


def _pack(record: SharePackRecord) -> BatchPack:
    return BatchPack(
        file_name=record.file_name or "",
        share_pack_id=record.share_pack_id,
        share_pack_name=record.share_pack_name,
        status=record.share_pack_status,
        provisioning_status=record.provisioning_status or "",
        error_message=record.error_message or "",
        rollback_status=record.rollback_status,
    )
