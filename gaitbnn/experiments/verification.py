"""Open-set verification of people never seen in training (issue 28), with the published OU-ISIR figures beside.

For each training share (default 70% and 20% of the people, subject-disjoint and seeded: ``data.verification``)
and each row of the config's ``plan`` (a registered embedding network and its metric loss, ``training.metric``),
one run is trained on the training people and scored on the test people: enrolled on their first recording
(OU-ISIR: ``Walk1``), probed with the others, every probe against every enrolled person
(``authentication.verification``). Each row gives EER per 2 s window and per probe walk, the 1% operating points,
rank-1, MM'19's SPRT (contrastive rows), the arm64 flatbuffer's size and, with ``make aarch64``'s runtime, its
aarch64 instructions per inference. Runs are reused by the same command (``--force`` retrains).
"""
from __future__ import annotations

import pandas as pd

from gaitbnn import data as datasets
from gaitbnn import families, models, runs
from gaitbnn.authentication import verification as scores
from gaitbnn.data import verification as protocol_data
from gaitbnn.experiments import Report, load_config, merge_settings, train_or_reuse
from gaitbnn.experiments.exported_runs import exported, instructions_cell
from gaitbnn.models import recipes
from gaitbnn.progress import Progress
from gaitbnn.reports import ReportWriter
from gaitbnn.training import fit, metric

CONFIG = "verification_tables"
BINARY = ("bipedalnet-embedding", "bipedalnet-float-ends-embedding")
FLOAT = "idnet-embedding"
SIZE_LIMIT_BYTES = 48 * 1024


def _run(row: dict, share: float, setting: dict, out) -> tuple:
    """(run directory, metrics) of one plan row at one training share: trained, or reused."""
    name, loss, epochs = row["model"], row["loss"], row["epochs"]
    run_dir = out / f"{name}-{loss}-share{round(100 * share)}"
    options = {"train_share": share, "representation": row.get("representation", protocol_data.SIGNAL)}
    expected = {"model": name, "loss": loss, "data": str(setting["data"]), "epochs": epochs,
                "seed": setting["seed"], "train_share": share}

    def train():
        dataset = datasets.load_family(datasets.VERIFY, setting["data"], setting["seed"],
                                       models.get_spec(name).input_shape, options)
        return metric.train(name, dataset, run_dir, loss, epochs, setting["batch_size"],
                            setting["learning_rate"], setting["seed"],
                            {k: setting.get(k) for k in families.AUGMENTATION_KEYS}, force=setting.get("force", False))

    label = f"{name}, {loss}, {share:.0%}"
    return run_dir, train_or_reuse(run_dir, expected, train, setting.get("force", False), label)


def plan_rows(plan: list, setting: dict, given_epochs: int | None) -> list:
    """The plan's rows for ``setting["models"]``, each with its epochs: the row's own (the config's) unless
    ``--epochs`` was given or the synthetic default's reduced setting applies; then the setting's."""
    override = bool(given_epochs) or setting["reduced"]
    return [{**row, "epochs": setting["epochs"] if override else row.get("epochs", setting["epochs"])}
            for row in plan if not setting.get("models") or row["model"] in setting["models"]]


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def reproduce(settings: dict) -> Report:
    """Train and score every plan row at every training share under ``settings["out"]``; print the table."""
    config = load_config(CONFIG)
    setting = merge_settings(config, settings.get("data", "synthetic"), settings, recipes.VERIFICATION)
    if settings.get("train_share") is not None:
        setting["train_shares"] = [settings["train_share"]]
    out = runs.writable_dir(setting["out"])
    writer = ReportWriter(out)
    plan = plan_rows(config["plan"], setting, settings.get("epochs"))
    shares = setting["train_shares"]
    timer = Progress(len(plan) * len(shares), "[verification] runs", every=0)
    rows, results, curves = [], [], {}
    for share in shares:
        for row in plan:
            run_dir, m = _run(row, share, setting, out)
            report = exported(run_dir, row["model"])
            sprt = m.get("sprt")
            results.append({**row, "train_share": share, "run": str(run_dir), "flatbuffer_bytes": report["size_bytes"],
                            "aarch64_instructions": (report.get("aarch64") or {}).get("instructions_per_inference"),
                            **m})
            rows.append({
                "model": row["model"], "loss": row["loss"], "train share": f"{share:.0%}",
                "people train / test": f"{m['train_people']} / {m['people']}",
                "EER window %": _percent(m["eer"]), "EER walk %": _percent(m["eer_walk"]),
                "FAR at 1% FRR, walk %": _percent(m["far_at_frr1_walk"]),
                "FRR at 1% FAR, walk %": _percent(m["frr_at_far1_walk"]),
                "rank-1 window / walk %": f"{_percent(m['rank1'])} / {_percent(m['rank1_walk'])}",
                "SPRT FAR / FRR %": f"{_percent(sprt['far'])} / {_percent(sprt['frr'])}" if sprt else "-",
                "arm64 KiB": f"{report['size_bytes'] / 1024:.1f}",
                "aarch64 instructions": instructions_cell(report),
                "train s": f"{m['train_seconds']:.0f}",
            })
            if share == shares[0]:
                curves[f"{row['model']} ({row['loss']}), walk"] = _walk_curve(run_dir, row["loss"])
            timer.step(len(rows))
    synthetic = datasets.is_synthetic(setting["data"])
    warning = "**Measured on SYNTHETIC data, not OU-ISIR.** " if synthetic else ""
    published = pd.DataFrame([{"work": r["work"], "people": r["people"],
                               "train share": "-" if r["train_share"] is None else f"{r['train_share']:.0%}",
                               "EER %": r["eer"], "rank-1 %": r.get("rank1", "-"), "source": r["source"]}
                              for r in config["published"]["rows"]])
    epochs = ", ".join(f"{row['model']} ({row['loss']}) {row['epochs']}" for row in plan)
    note = (f"{warning}Data: {results[0]['data_description']}. Seed {setting['seed']}; epochs: {epochs}. "
            "Per window: 2 s windows scored by their mean distance to the enrolled person's enrolment windows; per "
            "walk: a probe walk's windows' scores averaged. FAR/FRR: false accepts / rejects. SPRT: MM'19's "
            "sequential test over a walk's windows (contrastive rows; an undecided walk by its final ratio). arm64 "
            "KiB: the LCE flatbuffer (the binary embeddings at most 48 KiB); aarch64 instructions: guest instructions "
            "per inference on LCE's aarch64 kernels under qemu (a cost figure, not time).")
    text = writer.table(pd.DataFrame(rows), "verification", "Open-set verification of unseen people", note)
    text += "\n" + writer.table(published, "published", config["published"]["table"],
                                "Published figures use 744 or 745 people and their own segmentation and protocol: "
                                "context, not a like-for-like comparison.")
    det = out / "det.png"
    scores.det_plot(curves, det, f"unseen people, train share {shares[0]:.0%}" + (" (SYNTHETIC)" if synthetic else ""))
    writer.files.append(det.name)
    writer.json("results.json", {"data": str(setting["data"]), "synthetic": synthetic, "seed": setting["seed"],
                                  "train_shares": shares, "rows": results, "published": config["published"]["rows"],
                                  "binary_to_float_eer": _ratios(results)})
    return Report(text, writer.files, {"rows": results, "ratios": _ratios(results)})


def _walk_curve(run_dir, loss) -> dict:
    """The run's per-walk DET scores: as its training wrote them, or (a run from before that) re-scored."""
    if (run_dir / metric.SCORES_FILE).exists():
        return scores.load_curves(run_dir / metric.SCORES_FILE)["walk"]
    config, _ = runs.open_run(run_dir)
    result = metric.score_run(fit.load_model(run_dir), families.verification_data(config), loss)
    return result["curves"]["walk"]


def _ratios(results: list) -> dict:
    """Each binary embedding's EER over idnet-embedding's, per share and loss (the issue's goal: at most 1.5)."""
    out = {}
    for r in results:
        if r["model"] not in BINARY:
            continue
        ref = next((f for f in results if f["model"] == FLOAT and f["loss"] == r["loss"]
                    and f["train_share"] == r["train_share"]), None)
        if ref:
            out[f"{r['model']}, {r['loss']}, {r['train_share']:.0%}"] = {
                key: (r[key] / ref[key] if ref[key] else None) for key in ("eer", "eer_walk")}
    return out
