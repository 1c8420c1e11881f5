"""What `pbe_dist purify` returns, read back with PyTorch: the purified model loads with
torch.jit.load, differs from the input model in its weights (Neural Cleanse: unless it printed
"flagged classes: none", when it must equal it), and has on the test split the ACC purify printed
(so the file holds the model purify evaluated).
usage: check_purified.py INPUT.pt PURIFIED.pt DATA_DIR STDOUT_FILE"""
import re
import struct
import sys

import torch


def idx(path):
    with open(path, "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        dims = [n] + [struct.unpack(">I", f.read(4))[0] for _ in range((magic & 0xFF) - 1)]
        return torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).reshape(dims)


def main():
    source, purified, data, stdout = sys.argv[1:5]
    images = idx(f"{data}/t10k-images-idx3-ubyte").float().div(255).unsqueeze(1)
    labels = idx(f"{data}/t10k-labels-idx1-ubyte").long()
    before, after = torch.jit.load(source).eval(), torch.jit.load(purified).eval()
    changed = [n for (n, a), (_, b) in zip(before.named_parameters(), after.named_parameters()) if not torch.equal(a, b)]
    text = open(stdout).read()
    if "flagged classes: none" in text:
        assert not changed, f"{purified}: nothing flagged, yet {changed} changed"
    else:
        assert changed, f"{purified}: every weight equals the input model's"
    printed = re.search(r"ACC ([0-9.]+)% -> ([0-9.]+)% on (\d+) test images", text)
    assert printed, f"{stdout}: no ACC line"
    assert int(printed.group(3)) == len(labels), printed.group(0)
    with torch.no_grad():
        accs = [100 * m(images).argmax(1).eq(labels).float().mean().item() for m in (before, after)]
    for what, printed_acc, acc in zip(("before", "after"), printed.groups()[:2], accs):
        assert abs(float(printed_acc) - acc) < 0.01, f"{purified}: ACC {what} {acc:.2f}%, purify printed {printed_acc}%"
    print(f"{purified}: {len(changed)} of {len(list(after.parameters()))} tensors changed; ACC {accs[0]:.2f}% -> {accs[1]:.2f}% as printed")


main()
