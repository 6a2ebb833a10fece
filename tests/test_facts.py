import subprocess

import pytest
import torch

from cnnbook import build_environment, build_facts, seed_everything
from cnnbook import facts as facts_module
from cnnbook.facts import BuildFacts


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("CNNBOOK_DEVICE", raising=False)
    monkeypatch.delenv("CNNBOOK_REQUIRE_GPU", raising=False)


def test_cpu_facts_name_the_cpu_version_and_seed():
    seed_everything(5)
    facts = build_facts("cpu")
    assert facts.device == "CPU"
    assert facts.torch == torch.__version__
    assert facts.cuda is None and facts.cudnn is None
    assert facts.seed == 5
    assert facts.seconds > 0
    text = str(facts)
    assert text.startswith("Built on CPU · torch ")
    assert "seed 5" in text and text.endswith(" s from kernel start")


def test_line_and_html_form():
    facts = BuildFacts("NVIDIA H200", "2.11.0+cu130", "13.0", "9.10.2", None, 12.34)
    assert str(facts) == (
        "Built on NVIDIA H200 · torch 2.11.0+cu130 · CUDA 13.0 · cuDNN 9.10.2"
        " · 12.3 s from kernel start"
    )
    assert facts._repr_html_() == f'<p class="cnnbook-build-facts">{facts}</p>'


def test_html_is_escaped():
    facts = BuildFacts("<GPU & co>", "2", None, None, 0, 1.0)
    assert "&lt;GPU &amp; co&gt;" in facts._repr_html_()


def test_cuda_facts_come_from_torch(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "NVIDIA H200")
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91002)
    facts = build_facts("cuda")
    assert (facts.device, facts.cuda, facts.cudnn) == ("NVIDIA H200", "13.0", "9.10.2")


def test_cudnn_8_version_numbers(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 8902)
    assert facts_module._cudnn_version() == "8.9.2"
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: False)
    assert facts_module._cudnn_version() is None


def test_asking_about_a_missing_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA device is available"):
        build_facts("cuda")


def test_other_device_types_are_refused():
    with pytest.raises(ValueError, match="'cpu' or 'cuda' devices, got 'meta'"):
        build_facts("meta")


@pytest.mark.parametrize(
    ("device", "error", "message"),
    [
        ("gpu", ValueError, "device='gpu' is not a torch device"),
        (0, TypeError, "device must be a torch.device or a string .*, got int"),
        (["cpu"], TypeError, "device must be a torch.device or a string .*, got list"),
    ],
)
def test_build_facts_rejects_a_bad_device(device, error, message):
    with pytest.raises(error, match=message):
        build_facts(device)


def test_build_facts_takes_a_device_object():
    assert build_facts(torch.device("cpu")).device == "CPU"


def test_default_device_follows_get_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert build_facts().device == "CPU"


def test_build_environment_lists_the_stack_in_order(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    env = build_environment(["pytest", "surely-not-a-real-package"])
    keys = list(env)
    assert keys[:3] == ["Python", "Platform", "CPU cores"]
    assert env["torch"] == torch.__version__
    assert env["GPU"] == "none"
    assert env["pytest"] == pytest.__version__
    assert env["surely-not-a-real-package"] == "not installed"
    assert keys[-2:] == ["pytest", "surely-not-a-real-package"]


def test_build_environment_describes_each_gpu(monkeypatch):
    class Props:
        name = "NVIDIA H200"
        total_memory = 141 * 2**30

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: Props)
    assert build_environment()["GPU"] == "NVIDIA H200 (141 GiB), NVIDIA H200 (141 GiB)"


def test_build_environment_refuses_a_single_string():
    with pytest.raises(
        TypeError,
        match="packages must be a sequence of distribution names, not a single string",
    ):
        build_environment("jupyter-book")


@pytest.mark.parametrize("packages", [None, ["torch", 2], {"torch"}])
def test_build_environment_wants_a_sequence_of_names(packages):
    with pytest.raises(
        TypeError, match="packages must be a sequence of distribution names, got"
    ):
        build_environment(packages)


def test_build_environment_takes_a_tuple():
    assert build_environment(("pytest",))["pytest"] == pytest.__version__


def test_driver_from_nvidia_smi(monkeypatch):
    monkeypatch.setattr(
        "cnnbook.facts.shutil.which", lambda name: "/usr/bin/nvidia-smi"
    )

    def fake_run(args, **kwargs):
        assert args[1] == "--query-gpu=driver_version"
        return subprocess.CompletedProcess(args, 0, stdout="580.65\n580.65\n")

    monkeypatch.setattr("cnnbook.facts.subprocess.run", fake_run)
    assert build_environment()["NVIDIA driver"] == "580.65"


def test_driver_when_nvidia_smi_fails_or_is_missing(monkeypatch):
    monkeypatch.setattr(
        "cnnbook.facts.shutil.which", lambda name: "/usr/bin/nvidia-smi"
    )

    def failing_run(args, **kwargs):
        raise subprocess.CalledProcessError(9, args)

    monkeypatch.setattr("cnnbook.facts.subprocess.run", failing_run)
    assert build_environment()["NVIDIA driver"] == "no nvidia-smi"
    monkeypatch.setattr("cnnbook.facts.shutil.which", lambda name: None)
    assert build_environment()["NVIDIA driver"] == "no nvidia-smi"


def test_run_time_counts_from_the_process_start(monkeypatch):
    class Process:
        def create_time(self):
            return 1000.0

    monkeypatch.setattr("cnnbook.facts.psutil.Process", Process)
    monkeypatch.setattr("cnnbook.facts.time.time", lambda: 1012.5)
    assert build_facts("cpu").seconds == 12.5
