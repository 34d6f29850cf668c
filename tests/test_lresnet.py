"""ResNet-50 / L-ResNet-50: Ghost module, Table 4 counts, GEI builder, CASIA-B protocol, learning, export."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import write_png
from gaitbnn import models
from gaitbnn.data import casia_b, gei, synthetic_gei
from gaitbnn.data.problems import Problems
from gaitbnn.errors import InputError
from gaitbnn.models import lresnet


def test_ghost_module_splits_channels_between_ordinary_and_cheap_maps():
    inputs = tf.keras.Input((8, 8, 16))
    out = lresnet.ghost_module(inputs, 10, 3, name="g")
    model = tf.keras.Model(inputs, out)
    assert out.shape[1:] == (8, 8, 10)
    primary = model.get_layer("g_primary")
    cheap = model.get_layer("g_cheap")
    assert primary.filters == 5 and primary.kernel_size == (3, 3)
    assert isinstance(cheap, tf.keras.layers.DepthwiseConv2D) and cheap.kernel_size == (3, 3)
    assert cheap.depthwise_kernel.shape == (3, 3, 5, 1)  # one 3x3 filter per ordinary map: cheap
    probe = tf.keras.Model(inputs, [model.get_layer("g_primary_relu").output, model.get_layer("g_cheap_relu").output,
                                    out])
    first, second, both = probe(np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype(np.float32))
    np.testing.assert_array_equal(both[..., :5], first)
    np.testing.assert_array_equal(both[..., 5:], second)
    odd = lresnet.ghost_module(tf.keras.Input((4, 4, 3)), 7, 1, name="odd")
    assert odd.shape[-1] == 7  # ceil(7 / 2) = 4 ordinary maps, 3 of the 4 cheap ones kept


@pytest.mark.parametrize("name, params, flops", [("resnet50", 25.6e6, 4.1e9), ("lresnet50", 13.0e6, 2.2e9)])
def test_imagenet_configuration_matches_table4_within_5_percent(name, params, flops):
    counts = models.reference_counts(name)  # built once per process, shared with `gaitbnn models` and Table 4
    assert counts["input_shape"] == [224, 224, 3] and counts["classes"] == 1000
    assert abs(counts["params"] - params) / params < 0.05
    assert abs(counts["flops"] - flops) / flops < 0.05


def test_binary_variant_binarizes_only_the_residual_stages_primary_convolutions():
    model = models.build("lresnet50-binary")
    binary = [layer.name for layer in model.layers
              if getattr(getattr(layer, "kernel_quantizer", None), "precision", 32) == 1]
    assert len(binary) == 16 * 3  # three convolutions per bottleneck, 16 bottlenecks
    assert all(n.startswith("stage") and n.endswith("_primary") and "shortcut" not in n for n in binary)
    for kept in ("stem", "classifier", "stage1_block1_shortcut_primary"):
        assert getattr(model.get_layer(kept), "kernel_quantizer", None) is None


# --- GEIs --------------------------------------------------------------------------------------------------------

def test_gei_builder_crops_scales_centres_and_averages(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "casia"
    full = np.zeros((30, 40))
    full[5:25, 3:9] = 1  # a 20 x 6 silhouette at the left
    notched = np.zeros((30, 40))
    notched[8:28, 30:36] = 1  # the same far right and lower, with its lower right quarter missing
    notched[18:28, 33:36] = 0
    folder = root / "001" / "nm-01" / "090"
    write_png(folder / "001-nm-01-090-001.png", full)
    write_png(folder / "001-nm-01-090-002.png", notched)
    write_png(folder / "001-nm-01-090-003.png", np.zeros((30, 40)))  # an empty frame: skipped
    records = casia_b.records(root, height=20, width=20, progress=None)
    assert len(records) == 1 and (records[0].subject, records[0].condition, records[0].view) == ("001", "nm", 90)
    expected = np.zeros((20, 20), np.float32)
    expected[:, 8:11] = 1.0  # both frames' centroid column (2) lands on column 10
    expected[:10, 11:14] = 1.0
    expected[10:, 11:14] = 0.5  # present in one of the two frames
    np.testing.assert_allclose(records[0].image, expected, atol=1e-6)
    # cached: a second read does not build again
    monkeypatch.setattr(casia_b, "build_gei", lambda *a: pytest.fail("rebuilt a cached GEI"))
    np.testing.assert_allclose(casia_b.records(root, height=20, width=20, progress=None)[0].image, expected)


def test_an_interrupted_gei_build_resumes_at_the_first_unfinished_subject(tmp_path, monkeypatch):
    """GEIs are cached per subject (issue 25): a build killed in subject 002 keeps 001's, and the rerun builds
    002 and 003 only, giving what one uninterrupted build gives."""
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "casia"
    frame = np.zeros((30, 40))
    for subject in ("001", "002", "003"):
        for view in ("036", "090"):
            frame[5:25, 3:9 + int(subject)] = 1
            write_png(root / subject / "nm-01" / view / f"{subject}-nm-01-{view}-001.png", frame)
    build = casia_b.build_gei
    built = []

    def killed_in_002(frames, *args):
        if "/002/" in str(frames[0]):
            raise KeyboardInterrupt
        built.append(frames[0].parts[-4])
        return build(frames, *args)

    monkeypatch.setattr(casia_b, "build_gei", killed_in_002)
    with pytest.raises(KeyboardInterrupt):
        casia_b.records(root, height=20, width=20, progress=None)
    assert built == ["001", "001"] and len(list((tmp_path / "cache").glob("*.npz"))) == 1

    def counted(frames, *args):
        built.append(frames[0].parts[-4])
        return build(frames, *args)

    built.clear()
    monkeypatch.setattr(casia_b, "build_gei", counted)
    resumed = casia_b.records(root, height=20, width=20, progress=None)
    assert built == ["002", "002", "003", "003"]
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "fresh"))
    whole = casia_b.records(root, height=20, width=20, progress=None)
    assert [(r.subject, r.view) for r in resumed] == [(r.subject, r.view) for r in whole]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(resumed, whole))


def test_gei_builder_bad_images(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITBNN_CACHE", str(tmp_path / "cache"))
    empty = tmp_path / "empty" / "001" / "nm-01" / "090"
    write_png(empty / "a.png", np.zeros((10, 10)))
    with pytest.raises(InputError, match="no usable CASIA-B sequence"):
        casia_b.records(tmp_path / "empty", progress=None)
    broken = tmp_path / "broken" / "001" / "nm-01" / "090"
    broken.mkdir(parents=True)
    (broken / "a.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot read the image"):
        casia_b.records(tmp_path / "broken", progress=None)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no CASIA-B silhouettes"):
        casia_b.records(tmp_path / "nothing", progress=None)


def test_precomputed_geis_are_read(tmp_path):
    write_png(tmp_path / "geis" / "001-bg-02-054.png", np.full((16, 12), 0.5))
    (record,) = casia_b.records(tmp_path / "geis", height=16, width=12)
    assert (record.subject, record.condition, record.sequence, record.view) == ("001", "bg", 2, 54)
    assert record.image.shape == (16, 12) and abs(record.image.mean() - 0.5) < 0.01


def test_protocol_excludes_four_views_and_keeps_train_and_test_disjoint():
    records = synthetic_gei.records(subjects=3, height=16, width=16)
    train, test = gei.split(records, "synthetic")
    for part in (train, test):
        assert {r.view for r in part} == {36, 54, 72, 90, 108, 126, 144}
    assert {(r.condition, r.sequence) for r in train} == {("nm", q) for q in (1, 2, 3, 4)}
    assert {(r.condition, r.sequence) for r in test} == {("nm", 5), ("nm", 6), ("bg", 1), ("bg", 2), ("cl", 1),
                                                         ("cl", 2)}
    keys = lambda part: {(r.subject, r.condition, r.sequence, r.view) for r in part}  # noqa: E731
    assert not keys(train) & keys(test)
    assert len(train) == 3 * 7 * 4 and len(test) == 3 * 7 * 6


def test_protocol_skips_incomplete_subject_views_with_one_listed_problem():
    records = [r for r in synthetic_gei.records(subjects=3, height=8, width=8)
               if not (r.subject in ("002", "003") and r.condition == "nm" and r.sequence == 3 and r.view == 72)]
    problems = Problems()
    train, test = gei.split(records, "here", problems)
    assert {(r.subject, r.view) for r in train + test if r.view == 72} == {("001", 72)}
    assert len(train) == 3 * 7 * 4 - 2 * 4 and len(test) == 3 * 7 * 6 - 2 * 6  # both whole subject-views left out
    (item,) = problems.as_list()
    assert item["count"] == 2 and item["examples"] == ["002@072 (no nm-03)", "003@072 (no nm-03)"]


@pytest.mark.parametrize("drop, message", [
    (lambda r: r.condition == "nm" and r.sequence == 3, "no subject has nm-01 to nm-04 at any view"),
    (lambda r: r.condition == "cl", "no CL sequences"),
    (lambda r: 36 <= r.view <= 144, "no GEIs at views 36-144"),
])
def test_protocol_errors(drop, message):
    records = [r for r in synthetic_gei.records(subjects=2, height=8, width=8) if not drop(r)]
    with pytest.raises(InputError, match=message):
        gei.split(records, "here")


def test_lresnet50_learns_synthetic_geis(tmp_path):
    from gaitbnn.data import gei
    from gaitbnn.training import fit

    dataset = gei.load("synthetic:subjects=8", seed=0, input_shape=(32, 32, 1))
    metrics = fit.train("lresnet50", dataset, tmp_path / "run", epochs=5, batch_size=16, seed=0, verbose=0)
    assert metrics["test_accuracy"] >= 0.5, metrics  # chance is 1/8 over NM, BG and CL test GEIs
