"""Labels (task, classes, class weights) and splits, on tiny arrays."""

import numpy as np
import pytest

from mlpkit import config as cfg
from mlpkit import labels as lb
from mlpkit.data import split as sp
from mlpkit.data.assemble import assemble
from mlpkit.data.dataset import Rows, Source
from mlpkit.errors import ConfigError, DataError


@pytest.mark.parametrize("y,task", [
    (np.array([0, 1, 2, 1]), "multiclass"),
    (np.array(["cat", "dog", "cat"]), "binary"),
    (np.array([0.0, 1.0, 1.0, 0.0]), "binary"),  # 0/1 floats: two classes, not a quantity
    (np.array([0.5, 1.25, 3.0]), "regression"),
    (np.array([[1, 0, 0], [0, 1, 0]]), "multiclass"),  # one-hot
    (np.array([[1, 1, 0], [0, 1, 0]]), "multilabel"),
    (np.arange(200), "regression"),  # many integers: a quantity
    (np.array(["a", "b", "c", "a"], dtype=object), "multiclass"),
])
def test_infer_task(y, task):
    assert lb.infer_task(y)[0] == task


def test_forced_task_wins():
    assert lb.infer_task(np.array([0.5, 1.5]), "binary") == ("binary", "--task binary")


def test_classes_come_from_the_training_labels():
    labels = lb.Labels.fit(np.array(["b", "a", "b"]), "multiclass")
    assert labels.class_names == ["a", "b"] and labels.kind == "names"
    assert labels.encode(np.array(["b", "a"])).tolist() == [1, 0]
    with pytest.raises(DataError, match=r"never seen in training: \['c'\]"):
        labels.encode(np.array(["a", "c"]), where="the test labels")
    assert lb.Labels.from_spec(labels.spec()) == labels


def test_integer_labels_keep_their_values():
    labels = lb.Labels.fit(np.array([7, 3, 5, 3]), "multiclass")
    assert labels.class_names == ["3", "5", "7"] and labels.values == [3, 5, 7]
    assert labels.encode(np.array([5, 7, 3])).tolist() == [1, 2, 0]


def test_one_class_is_refused():
    with pytest.raises(DataError, match="one class only"):
        lb.Labels.fit(np.array([1, 1, 1]), "multiclass")


def test_balanced_class_weights_are_scikit_learns():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0, 0, 0, 1])
    labels = lb.Labels.fit(np.array(["a", "a", "a", "b"]), "binary")
    w = lb.class_weights("balanced", y, labels)
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    assert [w[0], w[1]] == pytest.approx(list(expected))
    assert [w[0], w[1]] == pytest.approx([4 / 6, 2.0])


def test_class_weight_keys_are_names_for_names_and_values_for_numbers():
    names = lb.Labels.fit(np.array(["a", "b"]), "binary")
    assert lb.class_weights("b:3", np.array([0, 1]), names) == {0: 1.0, 1: 3.0}
    with pytest.raises(ConfigError, match="class that does not exist: '1'"):
        lb.class_weights("1:3", np.array([0, 1]), names)  # "1" is not a name here
    numbers = lb.Labels.fit(np.array([3, 7, 3]), "binary")
    assert lb.class_weights({7: 2.0}, np.array([0, 1, 0]), numbers) == {0: 1.0, 1: 2.0}
    with pytest.raises(ConfigError, match="class that does not exist: '1'"):
        lb.class_weights("1:2", np.array([0, 1, 0]), numbers)  # an index is not a label value
    fashion = lb.Labels.fit(np.array([0, 1, 2]), "multiclass", ["T-shirt", "Trouser", "Bag"])
    assert lb.class_weights("2:5,Trouser:2", np.array([0, 1, 2]), fashion) == \
        {0: 1.0, 1: 2.0, 2: 5.0}


def test_holdout_keep_takes_the_last_rows_as_keras():
    kept, held, note = sp.holdout(np.arange(10), 0.2, "keep", 0)
    assert held.tolist() == [8, 9] and kept.tolist() == list(range(8))
    assert "in file order" in note


def test_holdout_shuffle_is_seeded():
    a = sp.holdout(np.arange(100), 0.2, "shuffle", 1)[1]
    b = sp.holdout(np.arange(100), 0.2, "shuffle", 1)[1]
    c = sp.holdout(np.arange(100), 0.2, "shuffle", 2)[1]
    assert a.tolist() == b.tolist() != c.tolist()
    assert a.tolist() != list(range(80, 100))  # not simply the tail


def test_holdout_stratifies_classes():
    y = np.array([0] * 90 + [1] * 10)  # sorted labels: a tail split would hold out only 1s
    kept, held, note = sp.holdout(np.arange(100), 0.2, "shuffle", 0, y)
    assert np.bincount(y[held]).tolist() == [18, 2] and "stratified by class" in note
    rare = np.array([0] * 30 + [1] * 20 + [2])  # one row of class 2: kept for training
    kept, held, note = sp.holdout(np.arange(51), 0.2, "shuffle", 0, rare)
    assert 50 in kept and np.bincount(rare[held]).tolist() == [6, 4]
    assert "stratified by class, shuffled with seed 0 (1 class of one row kept for " \
        "training)" in note
    _, _, note = sp.holdout(np.arange(10), 0.2, "shuffle", 0, np.arange(10))  # all alone
    assert "not stratified: the rarest class has 1 row)" in note


def test_split_round_trips(tmp_path):
    split = sp.Split(("rows", np.array([0, 2])), ("valid", np.array([1])),
                     ("rows", np.array([3, 4])))
    split.save(tmp_path / "split.npz")
    back = sp.Split.load(tmp_path / "split.npz")
    for (name, (part, idx)), (_, (part2, idx2)) in zip(split.items(), back.items()):
        assert part == part2 and idx.tolist() == idx2.tolist()


def source(x, y, **parts):
    return Source("t", {"rows": Rows(x, y), **parts})


def test_assemble_notes_the_split_and_the_task():
    x, y = np.random.rand(50, 3), np.arange(50) % 2
    ds = assemble(source(x, y), cfg.DataConfig(name="x"), seed=3)
    assert any("shuffled with seed" in n and "stratified" in n for n in ds.notes)
    assert any(n.startswith("task: binary (two label values") for n in ds.notes)
    ds = assemble(source(x, y), cfg.DataConfig(name="x", split_order="keep"), seed=3)
    assert any("in file order" in n for n in ds.notes)
    assert ds.sizes == {"train": 32, "valid": 8, "test": 10}


def test_held_out_rows_of_a_class_unseen_in_training_are_dropped_with_a_note():
    y = np.array(["a", "b"] * 20 + ["c"])  # "c" once, last: held out in file order
    x = np.random.rand(len(y), 2)
    ds = assemble(source(x, y), cfg.DataConfig(name="x", split_order="keep"), seed=0)
    assert "c" not in ds.class_names
    assert any("1 row dropped, their classes never appear" in n for n in ds.notes)
    assert sum(ds.sizes.values()) == len(y) - 1
    for seed in range(3):  # shuffled: a class of one row stays in training
        ds = assemble(source(x, y), cfg.DataConfig(name="x"), seed=seed)
        assert "c" in ds.class_names and sum(ds.sizes.values()) == len(y)


def test_given_test_rows_with_unknown_labels_are_refused():
    x = np.random.rand(40, 2)
    src = source(x, np.arange(40) % 2, test=Rows(x[:3], np.array([0, 1, 5])))
    with pytest.raises(DataError, match=r"the test labels hold labels never seen in training"):
        assemble(src, cfg.DataConfig(name="x"), seed=0)


def test_several_regression_targets_are_named_in_records():
    from mlpkit import inference
    from mlpkit.labels import Labels

    y = np.random.default_rng(0).normal(size=(20, 2))
    named = Labels.fit(y, "regression", target="price, rent").spec()
    assert named["target_names"] == ["price", "rent"]  # saved in preprocessing.json
    out = np.array([[1.5, 2.5], [3.0, 4.0]], np.float32)
    assert inference.records(out, named)[1] == {"prediction": [3.0, 4.0],
                                                "predictions": {"price": 3.0, "rent": 4.0}}
    arrays = Labels.fit(y, "regression").spec()  # an .npz: no column names
    assert "target_names" not in arrays
    assert list(inference.records(out, arrays)[0]["predictions"]) == ["target 1", "target 2"]
    assert list(inference.records(out, arrays, "a,b")[0]["predictions"]) == ["a", "b"]
    quoted = Labels.fit(y, "regression", target='"rooms, total", price').spec()
    assert quoted["target_names"] == ["rooms, total", "price"]  # a comma inside quotes
    one = Labels.fit(y[:, 0], "regression", target="price").spec()
    assert inference.records(out[:, :1], one) == [{"prediction": 1.5}, {"prediction": 3.0}]


@pytest.mark.parametrize("names", [["price"], ["price", "rooms"], ["rooms, total", "price"],
                                   ['size "xl"', "a=b", " padded "]])
def test_target_names_join_and_split_back(names):
    from mlpkit.labels import join_names, split_names

    joined = join_names(names)
    assert split_names(joined) == [n.strip() for n in names]
    assert (joined == ",".join(names)) == all("," not in n and '"' not in n for n in names)


def test_binary_on_many_whole_numbers_suggests_regression():
    from mlpkit.errors import DataError
    from mlpkit.labels import Labels

    with pytest.raises(DataError, match=r"Use --task regression \(they are 192 distinct "
                                        r"numbers\), or drop --task\."):
        Labels.fit(np.arange(192) * 1000, "binary")
    with pytest.raises(DataError, match=r"Use --task multiclass\."):
        Labels.fit(np.arange(30) % 3, "binary")


def test_numbers_given_for_class_names_are_unseen_labels_not_a_crash():
    from mlpkit.errors import DataError
    from mlpkit.labels import Labels

    names = Labels.fit(np.array(["bar", "circle", "bar"]), "multiclass")
    assert names.known(np.array([1, 0])).tolist() == [False, False]
    with pytest.raises(DataError, match=r"hold labels never seen in training: \['0', '1'\]"):
        names.encode(np.array([1, 0]))
