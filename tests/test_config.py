import re

import pytest

from mlpkit import config as cfg
from mlpkit.errors import ConfigError


def test_seed_preset_is_the_lecture_recipe():
    c = cfg.resolve("fashion-mnist", "seed")
    assert c.model.hidden == (300, 100) and c.model.activation == "relu"
    t = c.training
    assert (t.optimizer, t.learning_rate, t.epochs, t.batch_size) == ("sgd", 0.01, 30, 32)


def test_housing_seed_preset():
    t = cfg.resolve("california-housing", "seed").training
    assert (t.optimizer, t.learning_rate, t.epochs) == ("adam", 0.001, 20)
    assert cfg.resolve("california-housing").model.hidden == (50, 50, 50, 50)


def test_flags_override_file_which_overrides_preset(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[training]\nepochs = 7\nbatch_size = 64\n')
    c = cfg.resolve("fashion-mnist", "seed", f, epochs=3, seed=None)
    assert c.training.epochs == 3 and c.training.batch_size == 64 and c.training.seed == 42


@pytest.mark.parametrize("name,value,message", [
    ("epochs", 0, "epochs must be >= 1. Received: epochs=0"),
    ("learning_rate", -1, "learning_rate must be > 0. Received: learning_rate=-1.0"),
    ("batch_size", "x", "batch_size must be an integer. Received: batch_size='x'"),
    ("optimizer", "sgdd", "optimizer must be one of"),
    ("hidden", "300,-1", "hidden must be one or more positive layer sizes, e.g. 300,100. "
                         "Received: hidden=[300, -1]"),  # as a config file writes a list
    ("coordinates", "Lat Deg", "Received: coordinates=['Lat Deg']"),
    ("hidden", [16.9, 8.2], "Received: hidden=[16.9, 8.2]"),  # never cut to 16-8 unsaid
    ("hidden", [True, 16], "Received: hidden=[True, 16]"),
])
def test_out_of_range_values(name, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        cfg.check_value(name, value)


def test_one_layer_given_as_a_number():
    from mlpkit.config import check_value

    assert check_value("hidden", 32) == check_value("hidden", "32") == (32,)
    with pytest.raises(ConfigError, match=r"Received: hidden=\[0\]"):
        check_value("hidden", 0)


def test_class_weight_as_keras_takes_it(tmp_path):
    """{6: 3.0}, as Keras's fit takes class_weight, is the config file's "6:3.0" (TOML
    has no integer keys: writing config.toml failed, leaving a run folder behind)."""
    config = cfg.resolve("fashion-mnist", class_weight={6: 3.0, "Shirt": 2, "08:00": 1})
    assert config.training.class_weight == {"6": 3.0, "Shirt": 2, "08:00": 1}
    (tmp_path / "c.toml").write_text(cfg.to_toml(config))
    assert cfg.resolve(config_file=tmp_path / "c.toml").training.class_weight == {
        "6": 3.0, "Shirt": 2, "08:00": 1}
    assert cfg.resolve("fashion-mnist", optimizer="SGD").training.optimizer == "sgd"  # Keras's


def test_a_square_image_size_given_once():
    from mlpkit.config import check_value

    assert check_value("image_size", "28") == check_value("image_size", 28) == "28x28"
    with pytest.raises(ConfigError, match=r"image_size must be HxW \(e\.g\. 28x28; 28 for a"):
        check_value("image_size", "28x")


def test_unknown_key_suggests(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[training]\nlearning_rat = 0.1\n')
    with pytest.raises(ConfigError, match="Did you mean 'learning_rate'"):
        cfg.resolve("fashion-mnist", config_file=f)


def test_unknown_preset_and_dataset():
    with pytest.raises(ConfigError, match="unknown preset 'sed'.*Did you mean 'seed'"):
        cfg.resolve("fashion-mnist", "sed")
    with pytest.raises(ConfigError, match="unknown data set 'fashion'"):
        cfg.resolve("fashion", "seed")


def test_toml_round_trip(tmp_path):
    c = cfg.resolve("fashion-mnist", "seed", epochs=2, out="x")
    f = tmp_path / "config.toml"
    f.write_text(cfg.to_toml(c))
    assert cfg.resolve(config_file=f) == c


def test_unknown_setting_suggests():
    with pytest.raises(ConfigError, match="unknown setting 'epoch'.*Did you mean 'epochs'"):
        cfg.resolve("fashion-mnist", epoch=3)


def test_the_cli_and_the_api_resolve_settings_the_same_way(tmp_path):
    """Both go through config.resolve: the run's config.toml is the same either way."""
    import mlpkit
    from conftest import run_cli

    args = dict(epochs=1, batch_size=64, learning_rate=0.02, hidden="16", seed=3)
    cli_out, api_out = tmp_path / "cli", tmp_path / "api"
    r = run_cli("train", "california-housing", "--epochs", "1", "--batch-size", "64",
                "--learning-rate", "0.02", "--hidden", "16", "--seed", "3", "--out", cli_out,
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    mlpkit.train("california-housing", out=api_out, verbose=0, **args)
    strip = lambda text: text.replace(str(cli_out), "OUT").replace(str(api_out), "OUT")  # noqa
    assert strip((cli_out / "config.toml").read_text()) == \
        strip((api_out / "config.toml").read_text())


def test_a_setting_outside_any_section_is_told_its_section(tmp_path):
    (tmp_path / "c.toml").write_text('epochs = 3\n[data]\nname = "fashion-mnist"\n')
    with pytest.raises(ConfigError, match=r"'epochs' must be under \[training\]"):
        cfg.resolve(config_file=tmp_path / "c.toml")


@pytest.mark.parametrize("toml, words", [
    ("data = 5\n", "[data] must be a table of settings. Received: data=5"),
    ('[data]\nname = "fashion-mnist"\nvalidation_data = 3\n', "validation_data must be a"),
])
def test_a_section_or_path_of_the_wrong_type(tmp_path, toml, words):
    (tmp_path / "c.toml").write_text(toml)
    with pytest.raises(ConfigError) as e:
        cfg.resolve(config_file=tmp_path / "c.toml")
    assert words in str(e.value)


def test_a_config_files_data_paths_are_read_from_its_folder(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "houses.csv").write_text("a,y\n1,2\n")
    (project / "valid.csv").write_text("a,y\n3,4\n")
    f = project / "run.toml"
    f.write_text('[data]\nname = "houses.csv"\nvalidation_data = "valid.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "houses.csv").write_text("b,z\n1,2\n")  # the current folder's is not it
    monkeypatch.chdir(elsewhere)
    c = cfg.resolve(config_file=f)
    assert c.data.name == str(project / "houses.csv")
    assert c.data.validation_data == str(project / "valid.csv")
    # a path only the current folder has is read from there, as before
    f.write_text('[data]\nname = "other.csv"\n')
    (elsewhere / "other.csv").write_text("b,z\n1,2\n")
    assert cfg.resolve(config_file=f).data.name == str(elsewhere / "other.csv")
    # found in neither folder: both are said
    f.write_text('[data]\nname = "houses.csv"\nvalidation_data = "data/nope.csv"\n')
    with pytest.raises(ConfigError, match=r"validation_data = 'data/nope.csv' not found beside "
                                          r"the config file \(.*project\) nor in the current "
                                          r"folder \(.*elsewhere\)"):
        cfg.resolve(config_file=f)
    # a built-in name stays one, whatever the folder holds
    (project / "fashion-mnist").mkdir()
    f.write_text('[data]\nname = "fashion-mnist"\n')
    assert cfg.resolve(config_file=f).data.name == "fashion-mnist"


def test_column_types_take_a_column_named_with_an_equals_sign():
    assert cfg.check_value("column_types", "a=b=category, zip=category") == {
        "a=b": "category", "zip": "category"}
    with pytest.raises(ConfigError, match="column_types must map columns"):
        cfg.check_value("column_types", "a=b=colour")


def test_column_lists_quote_a_name_holding_a_comma_as_the_target_does():
    assert cfg.check_value("drop", '"rent, monthly",sold, grade') == ("rent, monthly", "sold",
                                                                      "grade")
    assert cfg.check_value("columns", "a,,b") == ("a", "b")
    assert cfg.check_value("column_types", '"rent, monthly"=drop, zip=category') == {
        "rent, monthly": "drop", "zip": "category"}
