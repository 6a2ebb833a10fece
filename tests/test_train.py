import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from cnnbook import History, LeNet, evaluate, predict, train


def _data(n, seed, flip=False):
    """A tiny synthetic task: class 1 images are bright in the top half, class 0 in
    the bottom (the other way round with ``flip``)."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    images = torch.rand(n, 1, 28, 28, generator=gen) * 0.3
    images[labels == 1, :, :14] += 0.7
    images[labels == 0, :, 14:] += 0.7
    return TensorDataset(images, 1 - labels if flip else labels)


def _loaders(n=64, seed=0, flip_val=False):
    """A shuffled training loader and a validation loader drawn from other images."""
    return (
        DataLoader(_data(n, seed), batch_size=16, shuffle=True),
        DataLoader(_data(n // 2, seed + 100, flip=flip_val), batch_size=32),
    )


def test_training_lowers_the_loss_and_learns_the_task():
    train_loader, val_loader = _loaders()
    torch.manual_seed(0)
    model = LeNet(num_classes=2)
    before, _ = evaluate(model, val_loader)
    history = train(model, train_loader, val_loader, epochs=3, lr=3e-3)
    assert isinstance(history, History) and len(history.train_loss) == 3
    assert len(history.val_loss) == len(history.val_accuracy) == 3
    assert history.val_loss[-1] < before
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_accuracy[-1] == 1.0
    # without keep_best the model keeps the last epoch's weights
    assert evaluate(model, val_loader) == (
        history.val_loss[-1],
        history.val_accuracy[-1],
    )


def test_keep_best_restores_the_epoch_with_the_lowest_validation_loss():
    # The validation labels are flipped, so learning the task makes validation worse:
    # the best epoch is the first, and keep_best must go back to it.
    train_loader, val_loader = _loaders(flip_val=True)
    torch.manual_seed(0)
    model = LeNet(num_classes=2)
    history = train(model, train_loader, val_loader, epochs=3, lr=3e-3, keep_best=True)
    assert history.best_epoch == 1 and history.val_loss[-1] > history.val_loss[0]
    assert evaluate(model, val_loader) == (history.val_loss[0], history.val_accuracy[0])


def test_best_epoch_is_the_first_lowest_validation_loss():
    history = History(val_loss=[0.9, 0.4, 0.6, 0.4], val_accuracy=[0.1] * 4)
    assert history.best_epoch == 2
    with pytest.raises(ValueError, match="history is empty"):
        History().best_epoch  # noqa: B018


def test_evaluate_gives_the_exact_share_of_correct_answers():
    # A linear model that predicts class 1 exactly for positive inputs.
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0], [1.0]]))
        model.bias.zero_()
    inputs = torch.tensor([[1.0], [2.0], [3.0], [-1.0], [-2.0], [-3.0], [-4.0]])
    labels = torch.tensor([1, 1, 1, 1, 1, 1, 1])
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=3)
    loss, accuracy = evaluate(model, loader)
    assert accuracy == 3 / 7
    expected = nn.functional.cross_entropy(model(inputs), labels).item()
    assert loss == pytest.approx(expected, rel=1e-6)
    assert predict(model, loader).tolist() == [1, 1, 1, 0, 0, 0, 0]


def test_a_single_step_lowers_the_loss_on_its_batch():
    images, labels = next(iter(_loaders()[1]))
    torch.manual_seed(0)
    model = LeNet(num_classes=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_before = nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss_before.backward()
    optimizer.step()
    assert nn.functional.cross_entropy(model(images), labels) < loss_before


def test_same_seed_same_history():
    histories = []
    for _ in range(2):
        train_loader, val_loader = _loaders()
        torch.manual_seed(1)
        histories.append(
            train(LeNet(num_classes=2), train_loader, val_loader, epochs=2, seed=5)
        )
    assert histories[0] == histories[1]


def test_predict_returns_one_class_per_example():
    _, val_loader = _loaders(n=80)
    predictions = predict(LeNet(num_classes=2), val_loader)
    assert predictions.shape == (40,) and set(predictions.tolist()) <= {0, 1}


def test_progress_bar_can_be_forced(capsys):
    train_loader, val_loader = _loaders(n=16)
    train(LeNet(num_classes=2), train_loader, val_loader, epochs=1, progress=True)
    assert "epoch 1/1" in capsys.readouterr().err


def test_quiet_by_default_when_not_in_a_terminal(capsys):
    train_loader, val_loader = _loaders(n=16)
    train(LeNet(num_classes=2), train_loader, val_loader, epochs=1)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive int, got 0"),
        ({"epochs": 1.5}, TypeError, "epochs must be a positive int, got 1.5"),
        ({"epochs": True}, TypeError, "epochs must be a positive int, got True"),
        ({"epochs": 1, "lr": 0}, ValueError, "lr must be a finite number above 0"),
        ({"epochs": 1, "lr": -1e-3}, ValueError, "lr must be a finite number above 0"),
        ({"epochs": 1, "lr": float("nan")}, ValueError, "above 0, got nan"),
        ({"epochs": 1, "lr": float("inf")}, ValueError, "above 0, got inf"),
        ({"epochs": 1, "lr": "0.1"}, TypeError, "lr must be a finite number above 0"),
        ({"epochs": 1, "seed": -1}, ValueError, "seed must be an int in"),
        ({"epochs": 1, "seed": 0.5}, TypeError, "seed must be an int in"),
        (
            {"epochs": 1, "model": "LeNet"},
            TypeError,
            "model must be a torch.nn.Module, got str",
        ),
        (
            {"epochs": 1, "device": "gpu"},
            ValueError,
            "device='gpu' is not a torch device",
        ),
        (
            {"epochs": 1, "device": 0.0},
            TypeError,
            "device must be a torch.device or a string such as 'cpu'",
        ),
        (
            {"epochs": 1, "progress": "no"},
            TypeError,
            "progress must be True or False, got 'no'",
        ),
        (
            {"epochs": 1, "train_loader": [1, 2]},
            TypeError,
            "train_loader must be a torch.utils.data.DataLoader",
        ),
        (
            {"epochs": 1, "val_loader": None},
            TypeError,
            "val_loader must be a torch.utils.data.DataLoader, got NoneType",
        ),
        (
            {"epochs": 1, "keep_best": "yes"},
            TypeError,
            "keep_best must be True or False",
        ),
    ],
)
def test_rejects_bad_arguments(kwargs, error, message):
    train_loader, val_loader = _loaders(n=16)
    arguments = {
        "model": LeNet(num_classes=2),
        "train_loader": train_loader,
        "val_loader": val_loader,
        **kwargs,
    }
    with pytest.raises(error, match=message):
        train(**arguments)


@pytest.mark.parametrize("run", [evaluate, predict])
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": nn.Flatten}, TypeError, "model must be a torch.nn.Module, got type"),
        (
            {"loader": [(torch.zeros(1, 1, 28, 28), torch.zeros(1).long())]},
            TypeError,
            "loader must be a torch.utils.data.DataLoader, got list",
        ),
        ({"device": "cuda:x"}, ValueError, "device='cuda:x' is not a torch device"),
        ({"device": 0}, TypeError, "device must be a torch.device or a string"),
    ],
)
def test_evaluate_and_predict_reject_bad_arguments(run, kwargs, error, message):
    _, val_loader = _loaders(n=16)
    arguments = {"model": LeNet(num_classes=2), "loader": val_loader, **kwargs}
    with pytest.raises(error, match=message):
        run(**arguments)


def test_device_may_be_a_string_or_a_device():
    _, val_loader = _loaders(n=16)
    model = LeNet(num_classes=2)
    expected = evaluate(model, val_loader)
    assert evaluate(model, val_loader, "cpu") == expected
    assert evaluate(model, val_loader, torch.device("cpu")) == expected


def test_evaluate_needs_data():
    empty = DataLoader(
        TensorDataset(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long))
    )
    with pytest.raises(ValueError, match="loader yielded no batches"):
        evaluate(LeNet(), empty)


def _empty_loader():
    return DataLoader(
        TensorDataset(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long))
    )


def test_train_needs_training_data():
    _, val_loader = _loaders(n=16)
    with pytest.raises(ValueError, match="train_loader yielded no batches"):
        train(LeNet(num_classes=2), _empty_loader(), val_loader, epochs=1)


def test_train_needs_validation_data():
    train_loader, _ = _loaders(n=16)
    with pytest.raises(ValueError, match="val_loader yielded no batches"):
        train(LeNet(num_classes=2), train_loader, _empty_loader(), epochs=1)


def test_a_model_without_parameters_needs_a_device():
    # nn.Flatten() turns each image into 784 logits: a model with nothing to learn.
    _, val_loader = _loaders(n=16)
    model = nn.Flatten()
    for run in (evaluate, predict):
        with pytest.raises(ValueError, match="model has no parameters; pass device="):
            run(model, val_loader)
    loss, accuracy = evaluate(model, val_loader, device="cpu")
    assert loss > 0 and 0 <= accuracy <= 1
    assert predict(model, val_loader, device="cpu").shape == (8,)


def test_train_rejects_a_model_without_parameters():
    train_loader, val_loader = _loaders(n=16)
    with pytest.raises(ValueError, match="model has no parameters to train"):
        train(nn.Flatten(), train_loader, val_loader, epochs=1, device="cpu")


def test_best_epoch_skips_nan_losses():
    nan = float("nan")
    assert History(val_loss=[nan, 0.5, 0.4]).best_epoch == 3
    assert History(val_loss=[0.5, nan, 0.7]).best_epoch == 1
    assert History(val_loss=[float("inf"), nan]).best_epoch == 1
    with pytest.raises(ValueError, match="every validation loss is NaN"):
        History(val_loss=[nan, nan]).best_epoch  # noqa: B018


class _NaNFirst(nn.Module):
    """LeNet whose logits are NaN in the first ``bad_epochs`` validation passes."""

    def __init__(self, bad_epochs):
        super().__init__()
        self.net, self.bad_epochs, self.passes = LeNet(num_classes=2), bad_epochs, 0

    def train(self, mode=True):
        if not mode:  # evaluate() switches to evaluation mode once per pass
            self.passes += 1
        return super().train(mode)

    def forward(self, images):
        logits = self.net(images)
        if not self.training and self.passes <= self.bad_epochs:
            logits = logits * float("nan")
        return logits


def test_keep_best_never_keeps_a_nan_epoch():
    train_loader, val_loader = _loaders(flip_val=True)
    torch.manual_seed(0)
    model = _NaNFirst(bad_epochs=1)
    history = train(model, train_loader, val_loader, epochs=3, lr=3e-3, keep_best=True)
    assert torch.isnan(torch.tensor(history.val_loss[0]))
    assert history.best_epoch == 2 + (history.val_loss[2] < history.val_loss[1])
    model.bad_epochs = 0
    best = history.best_epoch - 1
    assert evaluate(model, val_loader) == (
        history.val_loss[best],
        history.val_accuracy[best],
    )


def test_keep_best_names_an_all_nan_validation():
    train_loader, val_loader = _loaders(n=16)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="every validation loss was NaN"):
        train(
            _NaNFirst(bad_epochs=2),
            train_loader,
            val_loader,
            epochs=2,
            keep_best=True,
        )


def test_param_groups_give_each_group_its_own_learning_rate():
    # Adam's first step moves every weight by about its group's learning rate, so
    # the layer with a 100 times smaller rate moves about 100 times less.
    train_loader, val_loader = _loaders(n=16)
    torch.manual_seed(0)
    model = LeNet(num_classes=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    groups = [
        {"params": model.features.parameters(), "lr": 1e-5},
        {"params": model.classifier.parameters()},
    ]
    single = DataLoader(train_loader.dataset, batch_size=16)
    train(model, single, val_loader, epochs=1, lr=1e-3, param_groups=groups)
    step = {
        k: (v - before[k]).abs().max().item() for k, v in model.state_dict().items()
    }
    assert 0.5e-5 < step["features.conv1.weight"] <= 1.01e-5
    assert 0.5e-3 < step["classifier.fc1.weight"] <= 1.01e-3


def test_parameters_in_no_group_are_not_trained():
    train_loader, val_loader = _loaders(n=16)
    torch.manual_seed(0)
    model = LeNet(num_classes=2)
    features = {k: v.clone() for k, v in model.features.state_dict().items()}
    head = model.classifier.fc3.weight.clone()
    groups = ({"params": model.classifier.parameters()},)
    train(model, train_loader, val_loader, epochs=1, param_groups=groups)
    after = model.features.state_dict()
    assert all(torch.equal(after[k], v) for k, v in features.items())
    assert not torch.equal(model.classifier.fc3.weight, head)


def test_param_groups_match_a_plain_run_when_they_hold_everything():
    histories = []
    for groups in (None, "all"):
        train_loader, val_loader = _loaders()
        torch.manual_seed(1)
        model = LeNet(num_classes=2)
        if groups == "all":
            groups = [{"params": model.parameters()}]
        histories.append(
            train(model, train_loader, val_loader, epochs=2, param_groups=groups)
        )
    assert histories[0] == histories[1]


def _bad_groups(model):
    other = nn.Linear(2, 2)
    conv1 = model.features.conv1
    return [
        ({"x": 1}, TypeError, "param_groups must be a list of dicts"),
        ("abc", TypeError, "param_groups must be a list of dicts.*got str"),
        ([], ValueError, "got an empty list"),
        ([{"lr": 1e-3}], TypeError, "group 0 is"),
        ([3], TypeError, "group 0 is 3"),
        ([{"params": 3}], TypeError, r"\['params'\] must be an iterable.*got int"),
        ([{"params": []}], ValueError, r"param_groups\[0\] has no parameters"),
        ([{"params": [torch.zeros(2)]}], TypeError, "nn.Parameter objects, got shape"),
        ([{"params": other.parameters()}], ValueError, "not the model's"),
        (
            [{"params": conv1.weight}, {"params": model.parameters()}],
            ValueError,
            r"param_groups\[1\] holds a parameter that an earlier group holds",
        ),
        (
            [{"params": conv1.parameters(), "lr": 0}],
            ValueError,
            r"param_groups\[0\]\['lr'\] must be a finite number above 0",
        ),
        (
            [{"params": conv1.parameters(), "lr": "fast"}],
            TypeError,
            r"param_groups\[0\]\['lr'\] must be a finite number above 0",
        ),
    ]


@pytest.mark.parametrize("case", range(12))
def test_rejects_bad_param_groups(case):
    train_loader, val_loader = _loaders(n=16)
    model = LeNet(num_classes=2)
    groups, error, message = _bad_groups(model)[case]
    assert len(_bad_groups(model)) == 12
    with pytest.raises(error, match=message):
        train(model, train_loader, val_loader, epochs=1, param_groups=groups)
