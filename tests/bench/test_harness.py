"""The benchmark harness runs end to end at the tiny scale (its own throwaway PostgreSQL) and
writes well-formed results. No time is asserted: this only keeps the harness from rotting."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"name", "value", "unit", "target", "baseline", "ratio", "met"}
EXPECTED = {"fact_ingest_rows_per_s", "copy_ceiling_rows_per_s", "monthly_report_s",
            "monthly_report_p99_max_deviation_pct",
            "device_list_first_page_p95_s", "device_list_deep_page_p95_s", "device_api_list_p95_s",
            "device_search_by_id_p95_s", "device_search_by_mpan_p95_s", "dashboard_page_p95_s",
            "monthly_report_page_p95_s", "single_request_dsp_outbound_p99_s", "peak_rss_any_process_mb",
            "fold_facts_per_s",
            *(f"self_service_{kind}_p95_s" for kind in ("rsmi_001", "rsmi_002", "rsmi_003", "rsmi_004", "rsat_001",
                                                         "rsat_002"))}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.skip("PostgreSQL 15 server binaries are not installed (scripts/pg.sh needs them)")
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, "-m", "bench", "--scale", "tiny", "--output", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done


def test_tiny_run_writes_well_formed_results(run):
    out, _ = run
    document = json.loads((out / "latest.json").read_text())
    assert set(document) == {"run_at", "machine", "scale", "results"}
    assert document["scale"] == "tiny" and document["machine"]
    names = [r["name"] for r in document["results"]]
    assert len(names) == len(set(names))
    assert EXPECTED <= set(names)
    assert any(n.startswith("batch_") and n.endswith("_upload_to_terminal_s") for n in names)
    for row in document["results"]:
        assert set(row) == KEYS, row
        assert isinstance(row["met"], bool)
        # every figure was measured: a benchmark that broke shows up here, not as a silent gap
        assert isinstance(row["value"], (int, float)), row
        assert row["unit"] and isinstance(row["target"], (int, float))
        if row["baseline"] is not None and row["value"]:
            assert row["ratio"] is not None


def test_report_matches_raw_facts_exactly(run):
    out, _ = run
    rows = {r["name"]: r for r in json.loads((out / "latest.json").read_text())["results"]}
    # counts equal to the raw-facts query is a correctness condition the run checks itself
    assert "counts equal: True (0 mismatches)" in (out / "latest.md").read_text()
    assert rows["monthly_report_p99_max_deviation_pct"]["value"] >= 0


def test_markdown_table_lists_every_figure(run):
    out, _ = run
    document = json.loads((out / "latest.json").read_text())
    table = (out / "latest.md").read_text()
    for row in document["results"]:
        assert f"| {row['name']} |" in table


def test_the_cost_curve_runs_its_smallest_ladder_and_writes_its_table_and_chart(tmp_path):
    if not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.skip("PostgreSQL 15 server binaries are not installed (scripts/pg.sh needs them)")
    done = subprocess.run([sys.executable, "-m", "bench", "--scale", "curve-tiny", "--output", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads((tmp_path / "curve-tiny.json").read_text())
    assert [r["requests"] for r in document["rungs"]] == [10_000, 30_000, 100_000]
    assert [r["request_facts"] for r in document["rungs"]] == [10_000, 30_000, 100_000]  # grown, not replaced
    names = {r["name"] for r in document["results"]}
    assert names == {f"curve_{reader}_{rung}_ratio" for reader in ("monthly_report", "dashboard_page",
                                                                   "monthly_report_page") for rung in ("30k", "100k")}
    assert all(isinstance(r["value"], float) and r["target"] == 1.2 for r in document["results"])
    assert "plotly.min.js" in (tmp_path / "curve-tiny.html").read_text()
    assert not (tmp_path / "latest.json").exists()  # the main run's results are left alone
