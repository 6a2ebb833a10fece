import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from cnnbook import History, LeNet, evaluate, predict, train


def _loaders(n=64, seed=0):
    """A tiny synthetic task: class 1 images are bright in the top half, class 0 in the bottom."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    images = torch.rand(n, 1, 28, 28, generator=gen) * 0.3
    images[labels == 1, :, :14] += 0.7
    images[labels == 0, :, 14:] += 0.7
    data = TensorDataset(images, labels)
    return DataLoader(data, batch_size=16, shuffle=True), DataLoader(
        data, batch_size=32
    )


def test_training_lowers_the_loss_and_learns_the_task():
    train_loader, test_loader = _loaders()
    torch.manual_seed(0)
    model = LeNet(num_classes=2)
    before, _ = evaluate(model, test_loader)
    history = train(model, train_loader, test_loader, epochs=3, lr=3e-3)
    assert isinstance(history, History) and len(history.train_loss) == 3
    assert history.test_loss[-1] < before
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_accuracy[-1] == 1.0


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
        train_loader, test_loader = _loaders()
        torch.manual_seed(1)
        histories.append(
            train(LeNet(num_classes=2), train_loader, test_loader, epochs=2, seed=5)
        )
    assert histories[0] == histories[1]


def test_predict_returns_one_class_per_example():
    _, test_loader = _loaders(n=40)
    predictions = predict(LeNet(num_classes=2), test_loader)
    assert predictions.shape == (40,) and set(predictions.tolist()) <= {0, 1}


def test_progress_bar_can_be_forced(capsys):
    train_loader, test_loader = _loaders(n=16)
    train(LeNet(num_classes=2), train_loader, test_loader, epochs=1, progress=True)
    assert "epoch 1/1" in capsys.readouterr().err


def test_quiet_by_default_when_not_in_a_terminal(capsys):
    train_loader, test_loader = _loaders(n=16)
    train(LeNet(num_classes=2), train_loader, test_loader, epochs=1)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive int"),
        ({"epochs": 1.5}, ValueError, "epochs must be a positive int"),
        ({"epochs": 1, "lr": 0}, ValueError, "lr must be positive"),
        (
            {"epochs": 1, "train_loader": [1, 2]},
            TypeError,
            "train_loader must be a torch.utils.data.DataLoader",
        ),
    ],
)
def test_rejects_bad_arguments(kwargs, error, message):
    train_loader, test_loader = _loaders(n=16)
    arguments = {"train_loader": train_loader, "test_loader": test_loader, **kwargs}
    with pytest.raises(error, match=message):
        train(LeNet(num_classes=2), **arguments)


def test_evaluate_needs_data():
    empty = DataLoader(
        TensorDataset(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long))
    )
    with pytest.raises(ValueError, match="no batches"):
        evaluate(LeNet(), empty)
