"""Writes the PyTorch files tests/torch/state_dict_test.cpp reads, with Debian's PyTorch.

    /usr/bin/python3 tests/torch/make_state_dicts.py OUT [--seeds FUZZ_CORPUS_DIR]
    /usr/bin/python3 tests/torch/make_state_dicts.py OUT --alexnet   # or --many

For each set of tensors it writes the same state_dict with torch.save in the zip format
(<set>.zip.pt) and the legacy format (<set>.legacy.pt), and the expected tensors: <set>.json
([{name, shape}] in order) and <set>.f32 (every tensor's values, contiguous float32,
concatenated in that order). The sets:
  small     (default) a Conv2d + Linear state_dict plus views that share one storage: a
            transposed tensor, a row at a storage offset, a strided column, a block, a scalar,
            an empty tensor; and special floats. Also as .safetensors written by hand
            (struct + json). Then the damaged and hostile files the readers must refuse.
  alexnet   (--alexnet, alone) torchvision's AlexNet with random weights, 61,100,840 floats
  many      (--many, alone, legacy only) 12,000 tensors: the legacy pickles exceed 1 MiB
--seeds writes the fuzz targets' seed corpora (fuzz/corpus/).
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch


def write_expected(out, name, sd):
    entries = []
    with open(os.path.join(out, name + ".f32"), "wb") as f:
        for key, t in sd.items():
            entries.append({"name": key, "shape": list(t.shape)})
            t.detach().contiguous().numpy().astype("<f4").tofile(f)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(entries, f)


def safetensors_bytes(tensors, metadata=None, override=None):
    """tensors: name -> tensor. override: name -> dict merged into that tensor's header entry."""
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        blob = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        header[key].update((override or {}).get(key, {}))
        offset += len(blob)
        blobs.append(blob)
    header["__metadata__"] = metadata or {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def torch_like_zip(path, pickle_bytes, byteorder=b"little", storages=None):
    """A zip laid out as torch.save's: archive/data.pkl, archive/byteorder, archive/data/<key>."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        if pickle_bytes is not None:
            z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", byteorder)
        for key, data in (storages or {}).items():
            z.writestr("archive/data/" + key, data)
        z.writestr("archive/version", b"3\n")


def small_state_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16, 5))
    sd = model.state_dict()  # an OrderedDict with torch's _metadata attribute
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
    sd["views.base"] = base
    sd["views.transposed"] = base.t()  # non-contiguous, same storage
    sd["views.row"] = base[1]  # storage offset 6
    sd["views.column"] = base[:, 2]  # storage offset 2, stride 6
    sd["views.block"] = base[1:3, 2:5]  # offset 8, strides (6, 1)
    sd["views.scalar"] = torch.tensor(3.25)
    sd["views.empty"] = torch.zeros(0, 3)
    sd["special"] = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4e38, -1.5])
    return sd


def write_seeds(seeds, out):
    """Fuzz seeds: data.pkl of the small zip, the legacy file's pickles, one tensor's pickle; a
    small .safetensors."""
    d = os.path.join(seeds, "fuzz_torch_pickle")
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(out, "small.zip.pt")) as z:
        open(os.path.join(d, "small_zip_data.pkl"), "wb").write(z.read("small.zip/data.pkl"))
    sd = collections.OrderedDict(w=torch.arange(6, dtype=torch.float32).reshape(2, 3))
    buf = io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        name = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        open(os.path.join(d, "one_tensor_data.pkl"), "wb").write(z.read(name))
    buf = io.BytesIO()
    torch.save(sd, buf, _use_new_zipfile_serialization=False)
    legacy = buf.getvalue()
    open(os.path.join(d, "one_tensor_legacy_pickles.bin"), "wb").write(legacy[: len(legacy) - 8 - 24])
    d = os.path.join(seeds, "fuzz_safetensors")
    os.makedirs(d, exist_ok=True)
    tensors = collections.OrderedDict(a=torch.arange(6, dtype=torch.float32).reshape(2, 3), b=torch.tensor(1.5))
    open(os.path.join(d, "two_tensors.safetensors"), "wb").write(safetensors_bytes(tensors))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if "--alexnet" in sys.argv:  # its own run: 733 MB of files that only one test reads
        import torchvision
        torch.manual_seed(1)
        big = torchvision.models.alexnet(weights=None).state_dict()
        torch.save(big, os.path.join(out, "alexnet.zip.pt"))
        torch.save(big, os.path.join(out, "alexnet.legacy.pt"), _use_new_zipfile_serialization=False)
        write_expected(out, "alexnet", big)
        return
    if "--many" in sys.argv:  # its own run too (2 s)
        # The legacy format's pickles over 1 MiB (12,000 tensors with long names): the reader
        # parses a prefix of the file first and must read more.
        many = collections.OrderedDict(("block%05d." % i + "w" * 90, torch.full((2,), float(i))) for i in range(12000))
        torch.save(many, os.path.join(out, "many.legacy.pt"), _use_new_zipfile_serialization=False)
        write_expected(out, "many", many)
        return
    sd = small_state_dict()
    torch.save(sd, os.path.join(out, "small.zip.pt"))
    torch.save(sd, os.path.join(out, "small.legacy.pt"), _use_new_zipfile_serialization=False)
    with open(os.path.join(out, "small.safetensors"), "wb") as f:
        f.write(safetensors_bytes(sd, {"format": "pt", "source": "make_state_dicts.py"}))
    write_expected(out, "small", sd)
    # torch.load must read back what it wrote (the files are torch's own, not ours).
    for name in ("small.zip.pt", "small.legacy.pt"):
        back = torch.load(os.path.join(out, name))
        assert list(back) == list(sd), name

    # ---- files to refuse ----
    def cut(src, dst, keep):
        data = open(os.path.join(out, src), "rb").read()
        open(os.path.join(out, dst), "wb").write(data[: keep(len(data))])

    cut("small.zip.pt", "truncated.zip.pt", lambda n: n * 6 // 10)
    cut("small.legacy.pt", "truncated_data.legacy.pt", lambda n: n - 10)
    cut("small.legacy.pt", "truncated_pickle.legacy.pt", lambda n: 300)
    cut("small.safetensors", "truncated.safetensors", lambda n: n - 4)

    # GLOBAL os.system, REDUCE: by hand, so the pickle names os.system (pickle writes posix.system).
    marker = os.path.join(out, "executed")
    cmd = ("touch " + marker).encode()
    evil = b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len(cmd)) + cmd + b"q\x01\x85q\x02Rq\x03."
    torch_like_zip(os.path.join(out, "os_system.pt"), evil)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + marker,))

    torch_like_zip(os.path.join(out, "reduce_system.pt"), pickle.dumps(collections.OrderedDict(w=Evil()), protocol=2))
    torch_like_zip(os.path.join(out, "no_data_pkl.pt"), None)
    long_sd = collections.OrderedDict()
    long_sd["bn.weight"] = torch.ones(2)
    long_sd["bn.num_batches_tracked"] = torch.tensor(5)
    torch.save(long_sd, os.path.join(out, "long_storage.pt"))
    torch.save([torch.ones(2)], os.path.join(out, "list.pt"))
    torch.save({"state_dict": sd, "epoch": 3}, os.path.join(out, "checkpoint.pt"))
    torch.save(torch.nn.Linear(2, 2), os.path.join(out, "whole_model.pt"))
    with zipfile.ZipFile(os.path.join(out, "small.zip.pt")) as src, \
            zipfile.ZipFile(os.path.join(out, "big_endian.pt"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():  # PyTorch >= 2.0 writes <name>/byteorder, 1.13 does not
            if not info.filename.endswith("/byteorder"):
                dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("small.zip/byteorder", b"big")
    two = collections.OrderedDict(a=torch.ones(2, 3), b=torch.zeros(4))
    with open(os.path.join(out, "bad_offsets.safetensors"), "wb") as f:
        f.write(safetensors_bytes(two, override={"b": {"data_offsets": [24, 4000]}}))
    with open(os.path.join(out, "f16.safetensors"), "wb") as f:
        f.write(safetensors_bytes(two, override={"b": {"dtype": "F16"}}))
    with open(os.path.join(out, "overlap.safetensors"), "wb") as f:
        f.write(safetensors_bytes(two, override={"b": {"data_offsets": [8, 24]}}))
    with open(os.path.join(out, "text.txt"), "w") as f:
        f.write("conv1.weight 1 2 3\n")

    if "--seeds" in sys.argv:
        write_seeds(sys.argv[sys.argv.index("--seeds") + 1], out)


if __name__ == "__main__":
    main()
