"""On-device siamese authentication (MM'19): Tables 1-3 and the continuous update beside measured values.

* Table 1: per embedding network (LeNet4, VGG8, MobileNetV2), the softmax
  baselines on sliding windows (sw) and spectrograms (spgm), a one-class SVM
  (scikit-learn, per owner, on the softmax(spgm) network's embeddings), and the
  siamese network with the contrastive or the cross-entropy loss in the
  multi-class setting (pairs over all people) and the binary-class setting (one
  owner vs everyone else, 20% of the training data, pairs by balanced reservoir
  sampling; averaged over owners).
* Table 2: feature transfer: a LeNet4 trained multi-class on the other people
  (the source) hands its weights to each owner's binary-class training with
  conv1, conv1-2 or conv1-3 frozen; accuracy and measured seconds per epoch
  against training from scratch.
* Table 3: every sample of the attackers' database against every owner's model,
  single and fused over 4-32 enrolled samples; plus SPRT decisions on genuine
  and impostor streams.
* Continuous update (Sec. 4.2.4): an owner model trained on session 1 is tested
  on session 2, then fine-tuned from its weights with a lower learning rate on
  20% of the session-2 data.

Accuracy of a siamese model is over test pairs: each test sample paired with a
random training sample of the same person and with one of another person
(balanced), as the paper's "randomly pairing training samples with testing samples".
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import tensorflow as tf

from gaitbnn import runs
from gaitbnn.authentication import protocol, reservoir
from gaitbnn.authentication.sprt import ACCEPT, REJECT, SPRT
from gaitbnn.data import auth
from gaitbnn.errors import InputError
from gaitbnn.experiments import Report, load_config, merge_settings
from gaitbnn.experiments.steps import Steps
from gaitbnn.models import embeddings, recipes
from gaitbnn.reports import ReportWriter
from gaitbnn.training import pairs

if TYPE_CHECKING:
    from gaitbnn.data.auth import AuthData

BUILDERS = {"lenet4": embeddings.lenet4, "vgg8": embeddings.vgg8, "mobilenetv2": embeddings.mobilenetv2}
BATCHES = (4, 8, 16, 32)
FROZEN = {"fconv1": ("conv1",), "fconv1-2": ("conv1", "conv2"), "fconv1-3": ("conv1", "conv2", "conv3")}


_clock = {"start": time.time()}  # reset when a reproduction starts


def log(message: str) -> None:
    print(f"[{time.time() - _clock['start']:6.0f} s] {message}", flush=True)


def _new_session(seed: int) -> None:
    """Each step builds its networks in a fresh Keras session from the run's seed, so their initial weights do
    not depend on which steps ran before it in this process (a resumed run trains what an uninterrupted one does)."""
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)


def _owner_key(data: AuthData, owner: int) -> str:
    return f"owner-{data.people[owner]}"


def _transfer_key(data: AuthData, owner: int) -> str:
    """The step whose weights Table 3 attacks: the owner's binary-class LeNet4, contrastive (Table 1)."""
    return f"table1/lenet4/binary_{pairs.CONTRASTIVE}/{_owner_key(data, owner)}"


def table1(data: AuthData, setting: dict, seed: int, steps: Steps) -> tuple:
    """Table 1, one step per (network, column) and per owner model; returns (table, measured, owners, subset)."""
    paper = load_config("siamese_tables")["table1"]
    measured = {}
    subset = protocol.binary_subset(data, setting["binary_data_fraction"], seed)
    owners = protocol.owners_of(data, setting["owners"], seed)
    for name in setting["models"]:
        builder, row = BUILDERS[name], {}

        def softmax(rng, name=name, builder=builder):
            out = {}
            for column, x in (("softmax_sw", data.windows), ("softmax_spgm", data.images)):
                log(f"[table 1] {name} {column}")
                tf.keras.utils.set_random_seed(seed)
                classifier = pairs.softmax_classifier(builder(input_shape=x.shape[1:]), data.classes)
                classifier.fit(x[data.train], data.y[data.train], batch_size=setting["batch_size"],
                               epochs=setting["epochs"], verbose=0)
                out[column] = float(np.mean(np.argmax(classifier.predict(x[data.test], verbose=0), 1)
                                            == data.y[data.test]))
            log(f"[table 1] {name} osvm")
            features = tf.keras.Model(classifier.input, classifier.get_layer("embedding_relu").output)
            features = features.predict(data.images, verbose=0)
            out["osvm"] = float(np.mean([protocol.osvm_accuracy(features, data, owner, rng) for owner in owners]))
            return out

        row.update(steps.result(f"table1/{name}/softmax", softmax))
        for loss in pairs.LOSSES:
            def multi(rng, name=name, builder=builder, loss=loss):
                log(f"[table 1] {name} multi-class {loss}")
                pair_index, labels = reservoir.multi_class_pairs(data.y[data.train], setting["pairs"], rng)
                model, _ = protocol.pair_model(builder, loss, setting["learning_rate"])
                pairs.fit_pairs(model, data.images, data.train[pair_index], labels, setting["epochs"],
                                setting["batch_size"], seed)
                return {"accuracy": protocol.indexed_pair_accuracy(model, loss, data.images,
                                                                   *pairs.probe_pairs(data, data.test, rng))}

            row[f"multi_{loss}"] = steps.result(f"table1/{name}/multi_{loss}", multi)["accuracy"]
            scores, balanced = [], []
            for owner in owners:
                key = f"table1/{name}/binary_{loss}/{_owner_key(data, owner)}"

                def binary(rng, name=name, builder=builder, loss=loss, owner=owner, key=key):
                    log(f"[table 1] {name} binary-class {loss}, owner {data.people[owner]}")
                    model, embedding, _, _ = protocol.train_owner(builder, loss, data, owner, subset, setting, seed)
                    if key == _transfer_key(data, owner):
                        steps.save_weights(key, embedding.get_weights())
                    return {  # the paper's: the entire test set; ours: as many impostors as genuine probes
                        "score": protocol.indexed_pair_accuracy(model, loss, data.images, *pairs.probe_pairs(
                            data, data.test, rng, owner=owner, balanced=False)),
                        "balanced": protocol.indexed_pair_accuracy(model, loss, data.images, *pairs.probe_pairs(
                            data, data.test, rng, owner=owner))}

                result = steps.result(key, binary)
                scores.append(result["score"])
                balanced.append(result["balanced"])
            row[f"binary_{loss}"] = float(np.mean(scores))
            row[f"binary_{loss}_spread"] = [float(np.min(scores)), float(np.max(scores))]
            row[f"binary_{loss}_balanced"] = float(np.mean(balanced))
        measured[name] = row
    titles = paper["column_titles"]
    rows = []
    for name in setting["models"]:
        for ds in ("mcgill", "idnet", "zju"):
            ref = next(r for r in paper["rows"] if r["dataset"] == ds and r["model"] == name)
            rows.append({"dataset": ds, "model": name, "source": "paper",
                         **{titles[c]: f"{ref[c]:.3f}" for c in paper["columns"]}})
        rows.append({"dataset": data.source, "model": name, "source": "measured",
                     **{titles[c]: _cell(measured[name], c) for c in paper["columns"]}})
    return pd.DataFrame(rows), measured, owners, subset


def _source_weights(steps: Steps, key: str, images, y, indices, setting, seed) -> list:
    """LeNet4 trained multi-class contrastive on ``images[indices]``: the weights a feature transfer hands over."""
    def train(rng):
        pair_index, labels = reservoir.multi_class_pairs(y[indices], setting["pairs"], rng)
        source, embedding = protocol.pair_model(embeddings.lenet4, pairs.CONTRASTIVE, setting["learning_rate"])
        pairs.fit_pairs(source, images, indices[pair_index], labels, setting["epochs"], setting["batch_size"], seed)
        steps.save_weights(key, embedding.get_weights())
        return {"samples": len(indices)}

    steps.result(key, train)
    return steps.weights(key)


def table2(data: AuthData, setting: dict, seed: int, steps: Steps, subset: np.ndarray,
           other: AuthData | None = None) -> tuple:
    """Feature transfer (LeNet4): per source, frozen layer set and owner, binary-class accuracy and s / epoch.

    Sources: the same dataset without the owners (the "private" user is absent from the public data), and
    ``other`` (another dataset's training samples) when given.
    """
    # The source is the dataset without these owners, so Table 2 takes a seeded sample of them, not everyone.
    owners = protocol.owners_of(data, min(setting.get("transfer_owners", 2), data.classes - 1), seed)
    log("[table 2] source LeNet4 on the same dataset's other people")
    sources = {"same dataset, other people": _source_weights(
        steps, "table2/source-same", data.images, data.y, data.train[~np.isin(data.y[data.train], owners)],
        setting, seed)}
    if other is not None:
        log(f"[table 2] source LeNet4 on {other.source}")
        sources[other.source] = _source_weights(steps, "table2/source-other", other.images, other.y, other.train,
                                                setting, seed)
    results = {}
    for index, (source, frozen) in enumerate([("none", "scratch")] + [(s, f) for s in sources for f in FROZEN]):
        scores, seconds = [], []
        for owner in owners:
            def transfer(rng, source=source, frozen=frozen, owner=owner):
                log(f"[table 2] {frozen} from {source}, owner {data.people[owner]}")
                model, _, _, epoch_seconds = protocol.train_owner(
                    embeddings.lenet4, pairs.CONTRASTIVE, data, owner, subset, setting, seed, sources.get(source),
                    FROZEN.get(frozen, ()))
                return {"accuracy": protocol.indexed_pair_accuracy(
                            model, pairs.CONTRASTIVE, data.images, *pairs.probe_pairs(data, data.test, rng,
                                                                                      owner=owner)),
                        "seconds": float(np.median(epoch_seconds[1:] or epoch_seconds))}  # the first traces

            result = steps.result(f"table2/{index}-{frozen}/{_owner_key(data, owner)}", transfer)
            scores.append(result["accuracy"])
            seconds.append(result["seconds"])
        results[f"{source}|{frozen}"] = {"source": source, "frozen": frozen, "accuracy": float(np.mean(scores)),
                                         "seconds_per_epoch": float(np.mean(seconds))}
    base = results["none|scratch"]
    rows = [{"source": r["source"], "frozen": r["frozen"], "accuracy (measured)": f"{r['accuracy']:.3f}",
             "gain/loss vs scratch": "-" if r is base else f"{100 * (r['accuracy'] - base['accuracy']):+.1f}%",
             "s / epoch": f"{r['seconds_per_epoch']:.3f}",
             "speed-up": "-" if r is base else f"{base['seconds_per_epoch'] / r['seconds_per_epoch']:.2f}x"}
            for r in results.values()]
    return pd.DataFrame(rows), results


def _owner_embedding(data: AuthData, owner: int, steps: Steps) -> tf.keras.Model:
    """The owner's binary-class contrastive LeNet4 embedding of Table 1, rebuilt from its kept weights."""
    embedding = embeddings.lenet4(input_shape=data.images.shape[1:])
    embedding.set_weights(steps.weights(_transfer_key(data, owner)))
    return embedding


def table3(data: AuthData, attackers: AuthData, owners: list, setting: dict, steps: Steps) -> tuple:
    """Attack success ratios (%) per fusion size, and SPRT decisions on genuine and attacker streams."""
    success = {b: [] for b in ("all", *BATCHES)}
    sprt_rows = []
    rng = steps.rng("table3")
    tf.keras.backend.clear_session()
    for owner in owners:
        log(f"[table 3] attacks on owner {data.people[owner]}")
        embedding = _owner_embedding(data, owner, steps)
        enrolled = embedding.predict(data.images[data.train][data.y[data.train] == owner], verbose=0)
        attacks = embedding.predict(attackers.images, verbose=0)
        genuine = embedding.predict(data.images[data.test][data.y[data.test] == owner], verbose=0)
        for b in ("all", *BATCHES):
            d = protocol.fused_distances(enrolled, attacks, 1 if b == "all" else b, rng)
            success[b].append(float(np.mean(d < pairs.MARGIN / 2)))
        for who, probes in (("genuine", genuine), ("attacker", attacks)):
            decisions = []
            for _ in range(20):  # 20 streams of fused (k = 4) observations
                stream = protocol.fused_distances(enrolled, probes[rng.integers(len(probes), size=32)], 4, rng)
                decisions.append(SPRT(pairs.MARGIN, **setting["sprt"]).run(stream)[:2])
            sprt_rows.append({"owner": data.people[owner], "stream": who,
                              "accepted": float(np.mean([d == ACCEPT for d, _ in decisions])),
                              "rejected": float(np.mean([d == REJECT for d, _ in decisions])),
                              "mean observations": float(np.mean([n for _, n in decisions]))})
    return {b: 100 * float(np.mean(v)) for b, v in success.items()}, pd.DataFrame(sprt_rows)


def continuous_update(data: AuthData, setting: dict, seed: int, steps: Steps) -> pd.DataFrame:
    """Sec. 4.2.4: owner models trained on session 1, tested on session 2 before and after fine-tuning.

    The paper reports "the mean acceptance percentage over all fine-tuning epochs": acceptance is measured
    at the end of every fine-tuning epoch; the mean is the paper's figure, the last epoch is shown beside it.
    """
    results = []
    first = data.train[data.sessions[data.train] == 0]
    for owner in protocol.owners_of(data, setting["owners"], seed):
        later = np.flatnonzero((data.y == owner) & (data.sessions > 0))
        if len(later) < 5:
            continue

        def update(rng, owner=owner, later=later):
            log(f"[update] owner {data.people[owner]}")
            model, embedding, _, _ = protocol.train_owner(embeddings.lenet4, pairs.CONTRASTIVE, data, owner, first,
                                                          setting, seed)
            enrolled_idx = first[data.y[first] == owner]
            update_idx = rng.choice(later, size=max(1, int(setting["update_data_fraction"] * len(later))),
                                    replace=False)
            held_out = np.setdiff1d(later, update_idx)

            def acceptance(enrolled_idx=enrolled_idx):
                enrolled = embedding.predict(data.images[enrolled_idx], verbose=0)
                probes = embedding.predict(data.images[held_out], verbose=0)
                return float(np.mean(protocol.fused_distances(enrolled, probes, 4, rng) < pairs.MARGIN / 2))

            before = acceptance()
            new_owner = np.concatenate([enrolled_idx, update_idx])
            pool = np.concatenate([new_owner, first[data.y[first] != owner]])
            pair_index, labels = reservoir.owner_pairs(new_owner, pool[data.y[pool] != owner], rng)
            pairs.compile_pairs(model, pairs.CONTRASTIVE, setting["update_learning_rate"])
            per_epoch = []
            measure = tf.keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: per_epoch.append(acceptance(enrolled_idx=new_owner)))
            pairs.fit_pairs(model, data.images, pair_index, labels, setting["epochs"], setting["batch_size"], seed,
                            callbacks=[measure])
            return {"owner": data.people[owner], "acceptance before": before,
                    "acceptance after, mean over fine-tuning epochs": float(np.mean(per_epoch)),
                    "acceptance after, last epoch": per_epoch[-1],
                    "per fine-tuning epoch": ", ".join(f"{v:.3f}" for v in per_epoch)}

        results.append(steps.result(f"update/{_owner_key(data, owner)}", update))
    return pd.DataFrame(results)


def _step_count(data: AuthData, setting: dict, seed: int, other: AuthData | None) -> int:
    """How many steps the tables take (Table 1's networks and owners, Table 2's transfers, the updates)."""
    owners = len(protocol.owners_of(data, setting["owners"], seed))
    table1 = len(setting["models"]) * (1 + len(pairs.LOSSES) * (1 + owners))
    sources = 1 + (other is not None)
    transfer_owners = min(setting.get("transfer_owners", 2), data.classes - 1)
    return table1 + sources + (1 + len(FROZEN) * sources) * transfer_owners + owners


def _cell(row: dict, column: str) -> str:
    """A measured Table 1 cell; binary-class cells give the mean over owners with (min-max) beside it."""
    spread = row.get(f"{column}_spread")
    return f"{row[column]:.3f}" + (f" ({spread[0]:.3f}-{spread[1]:.3f})" if spread else "")


def paper_table2(table: dict) -> pd.DataFrame:
    """The paper's Table 2 as printed: target rows, source columns, each row's gain/loss (Sec. 4.2.3)."""
    names = {"mcgill": "McGill", "idnet": "IDNet", "zju": "ZJU"}
    return pd.DataFrame([{"target": names[r["target"]], "frozen": r["frozen"],
                          **{f"from {names[s]}": f"{r[f'from_{s}']:.3f}" for s in names},
                          "gain/loss vs scratch": f"{r['gain_loss_percent']:+.1f}%"} for r in table["rows"]])


def synthetic_warning(synthetic: dict) -> str:
    """The warning of a table whose sources are ``{role: synthetic?}``: it names the synthetic ones, and is
    empty when every source the table uses is real (a real table is never labelled synthetic)."""
    which = [role for role, is_synthetic in synthetic.items() if is_synthetic]
    return (f"**SYNTHETIC data (the {', the '.join(which)}), not the paper's datasets: values are not comparable to "
            "the paper's.** " if which else "")


def _stored_report(out, setting, force):
    """The Report of a complete earlier run in ``out`` with the same settings (None if there is none to reuse)."""
    stored_path = Path(out) / "results.json"
    if force or not stored_path.exists():
        return None
    stored = runs.read_json(stored_path, "earlier results")
    if stored.get("setting") != json.loads(json.dumps(setting)):
        raise InputError(f"{out}: holds results of other settings: pass --force to recompute, or another --out")
    log(f"reusing the complete results in {out}")
    files = stored.get("files", [])
    text = "\n".join((Path(out) / f).read_text() for f in files if f.endswith(".md"))
    return Report(text, files, stored)


def reproduce(settings: dict) -> Report:
    """Run every experiment and write the tables (paper beside measured) under ``settings["out"]``.

    ``attackers``: the attackers' database (Table 3); ``transfer_from``: another dataset to transfer
    features from (Table 2). Both default to synthetic populations of their own.
    """
    _clock["start"] = start = time.time()
    setting = merge_settings(load_config("siamese_tables"), settings.get("data", "synthetic"), settings,
                             recipes.SIAMESE)
    for key in ("out", "force", "verbose"):
        setting.pop(key, None)
    seed = setting["seed"]
    if "lenet4" not in setting["models"]:
        raise InputError("--models: Tables 2 and 3 and the continuous update use LeNet4: include lenet4")
    reused = _stored_report(settings["out"], setting, settings.get("force", False))
    if reused:
        return reused
    steps = Steps(settings["out"], setting, seed, force=settings.get("force", False), log=log,
                  prepare=lambda: _new_session(seed))
    writer = ReportWriter(settings["out"])
    dataset = auth.load(setting["data"], seed)
    attack_db = auth.load(setting["attackers"], seed, split=False, normalization=dataset.normalization)
    other = auth.load(setting["transfer_from"], seed)
    for source in (dataset, attack_db, other):
        if source.problems:
            source.problems.warn()
    steps.expect(_step_count(dataset, setting, seed, other), "[siamese] steps")
    log(f"data: {dataset.description}; attackers: {attack_db.description}; transfer source: {other.description}")
    t1, measured, owners, subset = table1(dataset, setting, seed, steps)
    t2, transfer = table2(dataset, setting, seed, steps, subset, other)
    success, sprt_table = table3(dataset, attack_db, owners, setting, steps)
    update = continuous_update(dataset, setting, seed, steps)
    if steps.reused:
        log(f"resumed: {steps.summary()}")
    config = load_config("siamese_tables")
    t3 = pd.DataFrame([{"dataset": r["dataset"], "source": "paper",
                        **{c: f"{r[c]:g}%" for c in config["table3"]["columns"]}} for r in config["table3"]["rows"]]
                      + [{"dataset": dataset.source, "source": "measured",
                          **{("all" if b == "all" else f"batch{b}"): f"{success[b]:.3f}%" for b in success}}])
    synthetic = dataset.synthetic or attack_db.synthetic or other.synthetic
    sources = {"enrolled people": dataset, "attackers": attack_db, "transfer source": other}

    def warning(*uses: str) -> str:
        return synthetic_warning({u: sources[u].synthetic for u in uses})

    on_owners, on_transfer = warning("enrolled people"), warning("enrolled people", "transfer source")
    on_attacks = warning("enrolled people", "attackers")

    chosen = ("every person" if len(owners) == dataset.classes
              else f"a seeded random sample of {len(owners)} of the {dataset.classes} people")
    binary_note = (f" Binary-class columns: one model per owner, {chosen} ({len(owners)} models), each tested on the "
                   "entire test set (the paper's protocol); the mean over owners with (min-max) beside it. On a "
                   "balanced sample of impostors instead (this project's first protocol): "
                   + ", ".join(f"{name} {loss.replace('_', '-')} {measured[name][f'binary_{loss}_balanced']:.3f}"
                               for name in measured for loss in pairs.LOSSES) + ".")
    note = (f"Data: {dataset.description}. Attackers: {attack_db.description}. Transfer source: "
            f"{other.description}. Adam "
            f"{setting['learning_rate']:g}, batch {setting['batch_size']} pairs, {setting['epochs']} epochs, margin "
            f"{setting['margin']}, seed {seed}."
            + (f" Reduced setting: {setting['why']}." if setting["reduced"] else ""))
    paper_t2 = paper_table2(config["table2"])
    update_note = (f"{on_owners}Paper (Sec. 4.2.4): acceptance without update 16.3% (McGill) / 1.1% (ZJU), "
                   f"after fine-tuning 92.4% / 77.6%. Fine-tuned from the session-1 weights with learning rate "
                   f"{setting['update_learning_rate']:g} on {setting['update_data_fraction']:.0%} of session 2; "
                   "acceptance of the rest of session 2, fused over 4 enrolled samples.")
    text = "\n".join([
        writer.table(t1, "table1", "Table 1: accuracy per dataset, model and method (paper rows, then measured)",
                     on_owners + note + binary_note),
        writer.table(paper_t2, "table2_paper", "Table 2 (paper): accuracy with feature transfer, LeNet4",
                     f"Rows: the target dataset; columns: the source of the frozen features. "
                     f"{config['table2']['orientation']}. {config['table2']['speedup_note']}."),
        writer.table(t2, "table2", "Table 2 (measured): feature transfer from the non-owners' LeNet4, binary-class",
                     f"{on_transfer}{note} Seconds per epoch are medians after the first epoch, "
                     "measured side by side in this run."),
        writer.table(t3, "table3", "Table 3: success ratio of attacks from the attackers' database",
                     on_attacks + note),
        writer.table(sprt_table, "sprt", "SPRT decision fusion (alpha = beta = 0.01, sigma^2 = 0.25, mu = m/2)",
                     f"{on_attacks}20 streams of fused (k = 4) distances per owner; a stream "
                     "ends at accept or reject."),
        writer.table(update, "continuous_update", "Continuous update (Sec. 4.2.4, Fig. 5)", update_note),
    ])
    results = {
        "data": dataset.source, "attackers": attack_db.source, "transfer_from": other.source, "synthetic": synthetic,
        "seed": seed, "setting": setting, "table1": measured, "table2": transfer,
        "table3_success_percent": {str(k): v for k, v in success.items()},
        "sprt": sprt_table.to_dict("records"), "continuous_update": update.to_dict("records"),
        "seconds": time.time() - start, "files": writer.files + ["results.json"]}
    writer.json("results.json", results)
    return Report(text, writer.files, results)
