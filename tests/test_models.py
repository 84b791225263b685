import keras
import numpy as np
import pytest

from mlpkit import models
from mlpkit.errors import ModelError


def test_seed_classifier_is_the_lecture_model():
    keras.backend.clear_session()
    model = models.seed_classifier()
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1", "dense_2"]
    assert [layer.count_params() for layer in model.layers] == [0, 235500, 30100, 1010]
    assert model.count_params() == 266_610
    assert model.get_layer("dense") is model.layers[1]
    weights, biases = model.layers[1].get_weights()
    assert weights.shape == (784, 300) and not biases.any()  # biases start at zero
    text = models.summary_text(model)
    for figure in ("235,500", "30,100", "1,010", "266,610"):
        assert figure in text
    assert model.layers[-1].activation.__name__ == "softmax"


def test_names_count_on_without_clear_session():
    keras.backend.clear_session()
    models.seed_classifier()
    second = models.seed_classifier()
    assert second.layers[1].name == "dense_3"  # globally unique, as the lecture says


def test_seed_regressor_adapts_on_training_features():
    keras.backend.clear_session()
    x = np.random.default_rng(0).normal(5.0, 2.0, (200, 8)).astype("float32")
    model = models.seed_regressor(x)
    norm = model.layers[0]
    assert isinstance(norm, keras.layers.Normalization)
    np.testing.assert_allclose(np.ravel(norm.mean), x.mean(axis=0), rtol=1e-4)
    dense = model.layers[1:]
    assert [d.units for d in dense] == [50, 50, 50, 50, 1]
    assert all(d.activation.__name__ == "relu" for d in dense[:4])
    assert dense[-1].activation.__name__ == "linear"


def test_build_mlp_spec():
    model = models.build_mlp((5,), hidden=(8, 4), activation="tanh", outputs=3, dropout=0.2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert model.output_shape == (None, 3)


def test_unknown_activation():
    with pytest.raises(ModelError, match="unknown activation 'relux'"):
        models.build_mlp((5,), activation="relux")


def test_ensemble_averages_its_members_and_reloads(tmp_path):
    from mlpkit.layers import MemberMean, members

    x = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
    model = models.build_mlp((6,), (8, 4), "relu", 3, "softmax", normalize=x, members=4)
    assert members(model) == 4 and isinstance(model.layers[-1], MemberMean)
    assert model.output_shape == (None, 3)
    for i in range(4):  # each member its own weights, named after it
        assert model.get_layer(f"member{i}_dense_0").get_weights()[0].shape == (6, 8)
        assert model.get_layer(f"member{i}_output").units == 3
    from mlpkit.layers import member_outputs

    outs = np.stack([np.asarray(o) for o in member_outputs(model)(x)], axis=1)
    assert outs.shape == (40, 4, 3)  # what the loop trains: each member's output
    assert not np.allclose(outs[:, 0], outs[:, 1])  # different initial weights
    mean = np.asarray(model(x))
    np.testing.assert_allclose(np.asarray(model(x, training=True)), mean, rtol=1e-6)  # no dropout
    np.testing.assert_allclose(mean, outs.mean(axis=1), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, rtol=1e-5)  # still probabilities
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert members(again) == 4
    np.testing.assert_allclose(np.asarray(again(x)), mean, rtol=1e-6)


def test_single_model_stays_the_lectures_sequential():
    from mlpkit.layers import members

    model = models.build_mlp((5,), (8,), members=1)
    assert isinstance(model, keras.Sequential) and members(model) == 1
    with pytest.raises(ModelError, match="members must be >= 1"):
        models.build_mlp((5,), (8,), members=0)


def test_random_shift_moves_each_image_by_whole_pixels_in_training_only():
    from mlpkit.layers import RandomShift

    rng = np.random.default_rng(0)
    x = np.zeros((64, 9, 9, 2), "float32")
    x[:, 2:7, 2:7] = rng.random((64, 5, 5, 2))  # content away from the edges: nothing lost
    layer = RandomShift(2, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)  # inference: unchanged
    out = np.asarray(layer(x, training=True))
    seen = set()
    for image, moved in zip(x, out):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(np.roll(image, (dy, dx), axis=(0, 1)), moved)]
        assert len(found) == 1, "each image is its input moved by whole pixels, at most 2"
        seen.add(found[0])
    assert len(seen) > 10, "each image draws its own shift"
    full = rng.random((32, 4, 4, 1)).astype("float32") + 1  # content up to the edges
    moved = np.asarray(RandomShift(1, seed=0)(full, training=True))
    for image, out in zip(full, moved):  # the same shift with zeros moved in, never wrapped
        padded = np.pad(image, ((1, 1), (1, 1), (0, 0)))
        assert any(np.array_equal(padded[1 + dy:5 + dy, 1 + dx:5 + dx], out)
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    assert (moved == 0).any() and not np.array_equal(moved, full)


def test_augmented_images_keep_a_pure_mlp_and_reload(tmp_path):
    from mlpkit.layers import RandomShift

    plain = models.build_mlp((6, 6), (8,), "relu", 3)
    model = models.build_mlp((6, 6), (8,), "relu", 3, augment=("horizontal", 1))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Reshape", "RandomFlip", "RandomShift", "Flatten", "Dense", "Dense"]
    assert model.count_params() == plain.count_params()
    plain.set_weights(model.get_weights())
    x = np.random.default_rng(1).random((5, 6, 6)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=1e-6)  # augmentation is for training only
    np.testing.assert_allclose(model(x), plain(x), rtol=1e-6)  # called directly too
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(again.layers[2], RandomShift) and again.layers[2].max_shift == 1
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    rgb = models.build_mlp((6, 6, 3), (8,), augment=("none", 2))  # RGB: no Reshape
    assert [type(layer).__name__ for layer in rgb.layers][:2] == ["RandomShift", "Flatten"]


def test_ensemble_members_each_draw_their_own_shifts_and_reload(tmp_path):
    from mlpkit.layers import RandomShift, member_outputs

    keras.utils.set_random_seed(0)
    model = models.build_mlp((8, 8), (16,), "relu", 3, members=3, augment=("none", 1))
    shifts = [model.get_layer(f"member{i}_random_shift") for i in range(3)]
    assert all(isinstance(s, RandomShift) and s.max_shift == 1 for s in shifts)
    seeds = {tuple(np.asarray(s.seed_generator.state.value).tolist()) for s in shifts}
    assert len(seeds) == 3  # each its own stream of draws
    plain = models.build_mlp((8, 8), (16,), "relu", 3, members=3)
    assert model.count_params() == plain.count_params()  # augmentation adds no weights
    x = np.zeros((64, 8, 8), "float32")
    x[:, 2:6, 2:6] = np.random.default_rng(2).random((64, 4, 4))
    # the same member weights behind different views: give the members one set of weights
    for i in range(1, 3):
        for kind in ("dense_0", "output"):
            model.get_layer(f"member{i}_{kind}").set_weights(
                model.get_layer(f"member0_{kind}").get_weights())
    seen = [np.asarray(o) for o in member_outputs(model)(x, training=True)]
    assert not np.allclose(seen[0], seen[1]) and not np.allclose(seen[1], seen[2])
    still = [np.asarray(o) for o in member_outputs(model)(x)]  # inference: no shifts
    np.testing.assert_allclose(still[0], still[1], rtol=1e-6)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert again.get_layer("member2_random_shift").max_shift == 1
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), rtol=1e-6)


def test_augmentation_is_refused_where_it_cannot_apply():
    x = np.random.default_rng(0).random((10, 4)).astype("float32")
    with pytest.raises(ModelError, match="feature vectors: drop --random-flip"):
        models.build_mlp((4,), (8,), normalize=x, augment=("horizontal", 0))
    with pytest.raises(ModelError, match="smaller than the images.*random_shift=6"):
        models.build_mlp((6, 6), (8,), augment=("none", 6))
    for shape in ((4,), (2, 3, 3, 1)):  # vectors without normalization; a 3-d volume
        with pytest.raises(ModelError, match="augment images"):
            models.build_mlp(shape, (8,), augment=["horizontal", 0])


def test_rotated_coordinates_append_rotated_views_and_reload(tmp_path):
    from mlpkit.layers import RotatedCoordinates

    # directions over the half turn, with the axes' 0 and 90 left out
    assert RotatedCoordinates.angles_for(10) == [15.0 * k for k in range(1, 12) if k != 6]
    assert RotatedCoordinates.angles_for(2) == [45.0, 135.0]
    assert RotatedCoordinates.angles_for(3) == [36.0, 72.0, 108.0]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)).astype("float32")
    x[:, 1], x[:, 3] = rng.uniform(32, 42, 50), rng.uniform(-124, -114, 50)  # lat, lon
    out = np.asarray(RotatedCoordinates([1, 3], [30.0, 60.0])(x))
    assert out.shape == (50, 6)
    np.testing.assert_array_equal(out[:, :4], x)  # the columns pass through, in front
    a = np.deg2rad(30)
    np.testing.assert_allclose(out[:, 4], x[:, 3] * np.cos(a) - x[:, 1] * np.sin(a), rtol=1e-5)
    np.testing.assert_allclose(out[:, 5], x[:, 3] * 0.5 - x[:, 1] * np.sin(np.deg2rad(60)),
                               rtol=1e-5)
    model = models.build_mlp((4,), (8,), "relu", 1, None, normalize=x, members=2,
                             coordinates=((1, 3), 3), embedding=("periodic", 4, 0.5))
    norm = model.get_layer(index=2)  # Input is not a layer: rotate, then normalize
    assert type(model.get_layer(index=1)).__name__ == "RotatedCoordinates"
    assert isinstance(norm, keras.layers.Normalization)
    rotated = np.asarray(RotatedCoordinates([1, 3], [36.0, 72.0, 108.0])(x))
    np.testing.assert_allclose(np.ravel(norm.mean), rotated.mean(axis=0), rtol=1e-4)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), rtol=1e-6)
    with pytest.raises(ValueError, match="two different column indices"):
        RotatedCoordinates([1, 1], [30.0])
    with pytest.raises(ModelError, match="coordinates rotates two columns of a table"):
        models.build_mlp((6, 6), (8,), coordinates=((0, 1), 5))


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_rotated_coordinates_normalize_in_float32_under_mixed_precision(policy):
    """Coordinates near 37 and -120 with spreads near 2: in bfloat16 their sums drift and
    in float16 their squares overflow; the normalization is adapted on float32 views."""
    from mlpkit import precision

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(2, 3, 400), rng.uniform(32, 42, 400),
                         rng.uniform(-124, -114, 400)]).astype("float32")
    with precision.use(policy):
        model = models.build_mlp((3,), (8,), "relu", 1, None, normalize=x,
                                 coordinates=((1, 2), 4))
    normalized = np.asarray(model.layers[1](model.layers[0](x)), np.float32)
    np.testing.assert_allclose(normalized.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(normalized.std(axis=0), 1, atol=0.05)
