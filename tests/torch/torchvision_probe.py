"""The independent reference for `alexnet import torchvision`, with Debian's PyTorch and torchvision.

    /usr/bin/python3 tests/torch/torchvision_probe.py make OUT_DIR [--images 6] [--classes 1000]
                                                      [--seed 1] [--fc8-scale 2.5]
    /usr/bin/python3 tests/torch/torchvision_probe.py forward PTH OUT_DIR IMAGE...

make writes into OUT_DIR:
  alexnet.pth           torchvision.models.alexnet(num_classes=classes).state_dict(), torch.save
                        (zip format); every conv and linear weight N(0, 2/fan_in), biases
                        uniform(-0.5, 0.5), the last Linear's weights times --fc8-scale
  alexnet_legacy.pth    the same, torch.save(..., _use_new_zipfile_serialization=False)
  alexnet.safetensors   the same, written by hand: u64 little-endian header length, a JSON
                        header {name: {dtype F32, shape, data_offsets}, __metadata__} padded with
                        spaces to 8 bytes, then the contiguous little-endian float32 data
  imagenet_classes.txt  "class 0" .. "class <classes-1>", one a line
  images/photo_<i>.png  i = 0 .. images-1: 256 x 256 RGB, a colour gradient, random filled
                        ellipses and rectangles, a slight blur and a little Gaussian noise
forward reads the state_dict with torch.load, runs torchvision's AlexNet in eval mode on the
centre 224 x 224 crops (offset 16) of 256 x 256 images, normalised with ImageNet's mean and std,
and writes into OUT_DIR (all float32 little-endian, row-major, images in command-line order):
  prob.f32       N x classes softmax probabilities
  features.f32   N x 256 x 6 x 6 (NCHW), the output of model.features
  fc7.f32        N x 4096, the output of classifier[5] (the second ReLU)
"""
import argparse
import collections
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image, ImageDraw, ImageFilter

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_state_dicts import safetensors_bytes  # noqa: E402  (the hand-written writer)

SIZE, CROP = 256, 224
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
DEFAULT_FC8_SCALE = 2.5  # top-1 0.35 .. 0.90 on the default images, top-6 logits >= 0.069 apart


def fail(message):
    sys.stderr.write("torchvision_probe.py: " + message + "\n")
    sys.exit(1)


def random_alexnet(classes, seed, fc8_scale):
    torch.manual_seed(seed)
    model = torchvision.models.alexnet(weights=None, num_classes=classes)
    last = model.classifier[6]
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = m.weight[0].numel()  # in_channels * kh * kw, or in_features
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                m.bias.uniform_(-0.5, 0.5)
        last.weight.mul_(fc8_scale)
    return model


def photo(rng):
    """A photo-like 256 x 256 RGB image from the numpy generator rng."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) / (SIZE - 1)
    c0, c1, c2 = rng.uniform(0, 255, size=(3, 3))  # the colours at three corners
    img = c0[None, None, :] + (c1 - c0)[None, None, :] * x[..., None] + (c2 - c0)[None, None, :] * y[..., None]
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(5, 11))):
        x0, y0 = rng.integers(-40, SIZE, size=2)
        w, h = rng.integers(20, 140, size=2)
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        box = [int(x0), int(y0), int(x0 + w), int(y0 + h)]
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(radius=1.2))
    arr = np.asarray(im).astype(np.float64) + rng.normal(0.0, 4.0, size=(SIZE, SIZE, 3))
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def make(args):
    if args.images < 0 or args.classes < 1:
        fail("--images must be >= 0 and --classes >= 1")
    out = args.out_dir
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    model = random_alexnet(args.classes, args.seed, args.fc8_scale)
    sd = model.state_dict()
    torch.save(sd, os.path.join(out, "alexnet.pth"))
    torch.save(sd, os.path.join(out, "alexnet_legacy.pth"), _use_new_zipfile_serialization=False)
    with open(os.path.join(out, "alexnet.safetensors"), "wb") as f:
        f.write(safetensors_bytes(sd, {"format": "pt", "source": "torchvision_probe.py"}))
    with open(os.path.join(out, "imagenet_classes.txt"), "w") as f:
        f.writelines("class %d\n" % i for i in range(args.classes))
    rng = np.random.default_rng(args.seed)
    for i in range(args.images):
        photo(rng).save(os.path.join(out, "images", "photo_%d.png" % i))


def load_image(path):
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
    except Exception as e:
        fail("cannot read image %s: %s" % (path, e))
    if im.size != (SIZE, SIZE):
        fail("%s is %d x %d, not %d x %d" % (path, im.size[0], im.size[1], SIZE, SIZE))
    off = (SIZE - CROP) // 2
    arr = np.asarray(im, dtype=np.float32)[off:off + CROP, off:off + CROP, :] / 255.0
    arr = (arr - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))  # CHW


def forward(args):
    torch.set_num_threads(2)
    try:
        sd = torch.load(args.pth, map_location="cpu")
    except Exception as e:
        fail("cannot load %s: %s" % (args.pth, e))
    if not isinstance(sd, collections.abc.Mapping) or "classifier.6.weight" not in sd:
        fail("%s is not an AlexNet state_dict (no classifier.6.weight)" % args.pth)
    classes = sd["classifier.6.weight"].shape[0]
    model = torchvision.models.alexnet(weights=None, num_classes=classes)
    try:
        model.load_state_dict(sd)
    except Exception as e:
        fail("%s does not fit torchvision's AlexNet: %s" % (args.pth, str(e).replace("\n", " ")))
    model.eval()
    batch = torch.stack([load_image(p) for p in args.images])
    with torch.no_grad():
        features = model.features(batch)
        x = torch.flatten(model.avgpool(features), 1)
        fc7 = model.classifier[:6](x)
        logits = model.classifier[6](fc7)
        assert torch.equal(logits, model(batch)), "the submodules disagree with model()"
        prob = torch.softmax(logits, dim=1)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, t in (("prob", prob), ("features", features), ("fc7", fc7)):
        t.contiguous().numpy().astype("<f4").tofile(os.path.join(args.out_dir, name + ".f32"))
    k = min(5, classes)
    top = torch.topk(prob, k, dim=1)
    for path, p, i in zip(args.images, top.values.tolist(), top.indices.tolist()):
        print("%s: %s" % (os.path.basename(path), "  ".join("%d %.4f" % (c, v) for c, v in zip(i, p))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("out_dir")
    m.add_argument("--images", type=int, default=6)
    m.add_argument("--classes", type=int, default=1000)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--fc8-scale", type=float, default=DEFAULT_FC8_SCALE)
    f = sub.add_parser("forward")
    f.add_argument("pth")
    f.add_argument("out_dir")
    f.add_argument("images", nargs="+")
    args = parser.parse_args()
    make(args) if args.command == "make" else forward(args)


if __name__ == "__main__":
    main()
