"""A reproduction's completed steps (experiments.steps): stored once, reused on a rerun, refused for other
settings, dropped by --force, and each step's random draws independent of the others (issue 25)."""
import numpy as np
import pytest

from gaitbnn.errors import InputError
from gaitbnn.experiments.steps import Steps


def test_a_step_is_computed_once_and_reused_by_a_rerun(tmp_path):
    calls = []

    def compute(rng):
        calls.append(1)
        return {"accuracy": float(rng.random())}

    first = Steps(tmp_path, {"seed": 0, "epochs": 3}, 0).result("table1/lenet4/owner-1", compute)
    again = Steps(tmp_path, {"seed": 0, "epochs": 3}, 0)
    assert again.result("table1/lenet4/owner-1", compute) == first and len(calls) == 1 and again.reused == 1


def test_each_step_draws_the_same_whatever_ran_before(tmp_path):
    steps = Steps(tmp_path, {}, seed=3)
    alone = steps.rng("table2/owner-4").random(5)
    steps.rng("table1/owner-1").random(100)  # another step's draws do not shift this one's
    assert np.array_equal(steps.rng("table2/owner-4").random(5), alone)
    assert not np.array_equal(steps.rng("table2/owner-5").random(5), alone)
    assert not np.array_equal(Steps(tmp_path / "other", {}, seed=4).rng("table2/owner-4").random(5), alone)


def test_steps_of_other_settings_are_refused_and_force_starts_over(tmp_path):
    Steps(tmp_path, {"epochs": 3}, 0).result("a", lambda rng: {"v": 1})
    with pytest.raises(InputError, match="other settings: pass the same options to resume, --force"):
        Steps(tmp_path, {"epochs": 4}, 0)
    forced = Steps(tmp_path, {"epochs": 4}, 0, force=True)
    assert forced.result("a", lambda rng: {"v": 2}) == {"v": 2} and forced.reused == 0


def test_kept_weights_come_back_and_missing_ones_are_a_clear_error(tmp_path):
    steps = Steps(tmp_path, {}, 0)
    weights = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3, np.float32)]
    steps.save_weights("table1/lenet4/owner-2", weights)
    back = steps.weights("table1/lenet4/owner-2")
    assert len(back) == 2 and all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(back, weights))
    with pytest.raises(InputError, match="missing the weights of step table1/lenet4/owner-3: pass --force"):
        steps.weights("table1/lenet4/owner-3")
