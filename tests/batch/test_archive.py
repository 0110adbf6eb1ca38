"""`read_zip`: a zip of share packs is read within bounds, whatever its headers claim, and
every unsafe entry is refused by name."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from sharepack.packfile.archive import ArchiveError, ZipLimits, inspect_zip, read_zip
from sharepack.packfile.templates import write_template_xlsx
from tests.batch.conftest import (
    pack,
    with_declared_size,
    with_encrypted_flag,
    zip_bomb,
    zip_of,
)

LIMITS = ZipLimits()


def _refusal(content: bytes, limits: ZipLimits = LIMITS) -> ArchiveError:
    with pytest.raises(ArchiveError) as refused:
        read_zip(content, "batch.zip", limits)
    return refused.value


def _only_entry(refused: ArchiveError) -> tuple[str, str]:
    """(entry name, message) of the one refused entry, its location the archive's."""
    ((entry, (problem,)),) = refused.entries.items()
    assert problem.location == f"batch.zip!{entry}" if entry else "batch.zip"
    return entry, problem.message


def test_a_valid_zip_gives_every_file_with_its_name_and_bytes() -> None:
    content = zip_of([("a.yaml", pack(1)), ("team/b.yaml", pack(2))])

    files = read_zip(content, "batch.zip", LIMITS)

    assert files == [("a.yaml", pack(1)), ("team/b.yaml", pack(2))]


def test_an_entry_decompressing_past_the_file_limit_is_refused_as_a_zip_bomb() -> None:
    entry, message = _only_entry(_refusal(zip_bomb("bomb.yaml", size=10_000_000)))

    assert entry == "bomb.yaml"
    assert "more than 5,242,880 bytes" in message


def test_an_entry_whose_headers_understate_its_size_is_refused_not_truncated() -> None:
    lying = with_declared_size(zip_bomb("small.yaml", size=10_000_000), 100)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("small.yaml").file_size == 100

    entry, message = _only_entry(_refusal(lying))

    assert entry == "small.yaml"
    assert "headers do not match its data" in message


def test_an_entry_whose_headers_overstate_its_size_is_refused_before_reading() -> None:
    claiming = with_declared_size(zip_of([("big.yaml", pack(1))]), 6 * 1024 * 1024)

    entry, message = _only_entry(_refusal(claiming))

    assert (entry, "more than 5,242,880 bytes" in message) == ("big.yaml", True)


def test_an_entry_compressed_beyond_100_to_1_is_refused_below_the_size_limit() -> None:
    entry, message = _only_entry(_refusal(zip_bomb("dense.yaml", size=2_000_000)))

    assert entry == "dense.yaml"
    assert "compressed more than 100:1" in message


def test_a_small_file_that_compresses_well_is_accepted() -> None:
    repetitive = b"# a comment line repeated\n" * 20_000  # 520 KB, under the ratio's floor

    assert read_zip(zip_of([("a.yaml", repetitive)]), "batch.zip", LIMITS)[0][1] == repetitive


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("../x.yaml", "climbs out"),
        ("packs/../../x.yaml", "climbs out"),
        ("/etc/x.yaml", "absolute path"),
        ("C:\\x.yaml", "absolute path"),
        ("C:x.yaml", "absolute path"),
        ("packs\\x.yaml", "backslash"),
    ],
)
def test_a_name_that_could_escape_the_archive_is_refused(name: str, said: str) -> None:
    entry, message = _only_entry(_refusal(zip_of([(name, pack(1))])))

    assert entry == name
    assert said in message


def test_more_files_than_the_limit_refuse_the_whole_archive() -> None:
    content = zip_of([(f"p{n}.yaml", pack(n)) for n in range(4)])

    entry, message = _only_entry(_refusal(content, ZipLimits(max_files=3)))

    assert entry == ""
    assert "at most 3 share pack files" in message


def test_files_together_past_the_total_refuse_the_archive_at_the_entry_that_passed_it() -> None:
    content = zip_of([(f"p{n}.yaml", pack(n)) for n in range(3)])
    total = len(pack(0)) + len(pack(1)) + 10

    entry, message = _only_entry(_refusal(content, ZipLimits(max_total_bytes=total)))

    assert entry == ""
    assert "At entry 'p2.yaml'" in message


def test_names_equal_but_for_case_are_refused_naming_both() -> None:
    refused = _refusal(zip_of([("Pack.yaml", pack(1)), ("pack.YAML", pack(2))]))

    entry, message = _only_entry(refused)

    assert entry == "pack.YAML"
    assert "'Pack.yaml'" in message


def test_an_archive_inside_the_archive_is_refused() -> None:
    inner = zip_of([("a.yaml", pack(1))])

    entry, message = _only_entry(_refusal(zip_of([("inner.zip", inner)])))

    assert entry == "inner.zip"
    assert "archive inside the archive" in message


def test_an_archive_inside_under_a_pack_s_name_is_refused_by_its_content() -> None:
    gzip = b"\x1f\x8b\x08\x00" + b"\0" * 20

    entry, message = _only_entry(_refusal(zip_of([("a.yaml", gzip)])))

    assert (entry, "archive inside" in message) == ("a.yaml", True)


def test_an_excel_workbook_inside_is_a_pack_not_a_nested_archive(tmp_path: Path) -> None:
    workbook = tmp_path / "pack.xlsx"
    write_template_xlsx(workbook)

    files = read_zip(zip_of([("pack.xlsx", workbook.read_bytes())]), "batch.zip", LIMITS)

    assert [name for name, _ in files] == ["pack.xlsx"]


def test_an_encrypted_entry_is_refused() -> None:
    entry, message = _only_entry(_refusal(with_encrypted_flag(zip_of([("a.yaml", pack(1))]))))

    assert (entry, "encrypted" in message) == ("a.yaml", True)


def test_a_symbolic_link_is_refused() -> None:
    link = zipfile.ZipInfo("link.yaml")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16

    entry, message = _only_entry(_refusal(zip_of([(link, b"/etc/passwd")])))

    assert (entry, "symbolic link" in message) == ("link.yaml", True)


def test_content_that_is_not_a_zip_is_refused_as_such() -> None:
    entry, message = _only_entry(_refusal(b"PK\x03\x04 but nothing a zip needs"))

    assert entry == ""
    assert "not a zip archive" in message


def test_directories_and_macos_metadata_are_skipped_with_a_warning() -> None:
    content = zip_of(
        [
            ("packs/", b""),
            ("packs/a.yaml", pack(1)),
            ("__MACOSX/packs/._a.yaml", b"\0\x05\x16\x07"),
            ("packs/.DS_Store", b"\0\0\0\x01Bud1"),
        ]
    )

    contents = inspect_zip(content, "batch.zip", LIMITS)

    assert [name for name, _ in contents.files] == ["packs/a.yaml"]
    assert contents.refused == {}
    assert [w.location for w in contents.warnings] == [
        "batch.zip!packs/",
        "batch.zip!__MACOSX/packs/._a.yaml",
        "batch.zip!packs/.DS_Store",
    ]


def test_every_refused_entry_is_named_not_only_the_first() -> None:
    content = zip_of([("../a.yaml", pack(1)), ("ok.yaml", pack(2)), ("/b.yaml", pack(3))])

    refused = _refusal(content)

    assert sorted(refused.entries) == ["../a.yaml", "/b.yaml"]
    assert [str(p).split(":")[0] for p in refused.problems] == [
        "batch.zip!../a.yaml",
        "batch.zip!/b.yaml",
    ]
