"""The clip GAN's networks: two generators (``GENERATORS``) and two critics.

``reenact`` (default, ``ReenactGenerator``): a real neutral frame of a training identity is
animated by a generated, class-conditional expression motion (see its docstring).
``synthesize`` (``ClipGenerator``): the neutral face itself is generated too:

Generator ``G(z, y, t)``: one latent ``z`` per clip (held fixed over its frames: the identity
and look of the clip), the class ``y`` and a per-frame expression intensity ``t`` in [0, 1].
Per clip it draws a neutral face ``N(z)`` and, for the class, a displacement field ``F(z, y)``
and a shading residual ``R(z, y)``; frame k is ``warp(N, t_k F) + t_k R``. So every clip starts
from a class-independent neutral face at ``t = 0`` and moves smoothly towards the class's apex
as ``t`` rises (temporal coherence by construction: the frames share N, F and R and differ
only in how far along the motion they are), and the cost of a clip is that of about one image,
not T images, which keeps CPU training within minutes. Layers use a batch-independent
GroupNorm followed by FiLM from the conditioning (sampling behaves as training does).

Critics, both spectrally normalised with projection conditioning (Miyato & Koyama 2018):
- ``FrameCritic(x, y, t)``: single frames with their difference from the clip's first frame
  ``(N, 2C, H, W)``, with class and intensity: does this frame look like class y at intensity t?
- ``ClipCritic(x, y)``: whole clips as frames + frame-to-frame differences stacked in channels
  ``(B, C*(2T-1), H, W)`` (early fusion): judges the motion.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

MAX_FLOW = 0.2    # largest displacement, in normalised units (2 = image size): 10% of the face


class FiLMBlock(nn.Module):
    """[Upsample x2 ->] [concat skip ->] conv3x3 -> GroupNorm -> FiLM(cond) -> ReLU."""

    def __init__(self, cin: int, cout: int, cond_dim: int, upsample: bool = True):
        super().__init__()
        self.upsample = upsample
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.GroupNorm(min(8, cout), cout, affine=False)
        self.film = nn.Linear(cond_dim, 2 * cout)

    def forward(self, h: torch.Tensor, cond: torch.Tensor,
                skip: torch.Tensor | None = None) -> torch.Tensor:
        if self.upsample:
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        if skip is not None:
            h = torch.cat([h, skip], dim=1)
        h = self.norm(self.conv(h))
        gamma, beta = self.film(cond).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return F.relu(h * (1 + gamma) + beta)


class ClipGenerator(nn.Module):
    """``forward(z (B, Z), y (B,), t (B, T)) -> clips (B, C, T, H, W)`` in [0, 1].

    ``size`` must be divisible by 8 (three x2 upsamplings from ``size // 8``). The motion
    (flow + residual) is predicted at half resolution and upsampled: it is smooth.
    """

    def __init__(self, *, num_classes: int, latent_dim: int = 64, channels: int = 1,
                 size: int = 48, width: int = 16, embed_dim: int = 32):
        super().__init__()
        if size % 8:
            raise ValueError(f"augment.sd.size must be divisible by 8, got {size}")
        self.latent_dim, self.channels, self.size = latent_dim, channels, size
        self.s0 = size // 8
        w = width
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.fc = nn.Linear(latent_dim, 4 * w * self.s0 * self.s0)
        self.up1 = FiLMBlock(4 * w, 4 * w, latent_dim)           # size/4
        self.up2 = FiLMBlock(4 * w, 2 * w, latent_dim)           # size/2
        self.up3 = FiLMBlock(2 * w, w, latent_dim)               # size
        self.to_face = nn.Conv2d(w, channels, 3, padding=1)
        motion_cond = latent_dim + embed_dim
        self.motion1 = FiLMBlock(2 * w, 2 * w, motion_cond, upsample=False)
        self.motion2 = FiLMBlock(2 * w, 2 * w, motion_cond, upsample=False)
        self.to_motion = nn.Conv2d(2 * w, 2 + channels, 3, padding=1)
        nn.init.zeros_(self.to_motion.weight)   # start from "no expression": frames = N
        nn.init.zeros_(self.to_motion.bias)

    def parts(self, z: torch.Tensor, y: torch.Tensor):
        """Neutral face ``(B, C, S, S)``, flow ``(B, S, S, 2)``, residual ``(B, C, S, S)``."""
        h = F.relu(self.fc(z)).reshape(z.shape[0], -1, self.s0, self.s0)
        half = self.up2(self.up1(h, z), z)
        face = torch.sigmoid(self.to_face(self.up3(half, z)))
        mc = torch.cat([z, self.embed(y)], dim=1)
        m = self.to_motion(self.motion2(self.motion1(half, mc), mc))
        m = F.interpolate(m, size=(self.size, self.size), mode="bilinear", align_corners=False)
        flow = MAX_FLOW * torch.tanh(m[:, :2]).permute(0, 2, 3, 1)
        return face, flow, torch.tanh(m[:, 2:])

    def forward(self, z: torch.Tensor, y: torch.Tensor, t: torch.Tensor,
                source: torch.Tensor | None = None) -> torch.Tensor:
        face, flow, residual = self.parts(z, y)        # ``source`` unused: faces are drawn
        return animate(face, flow, residual, t)


def animate(face: torch.Tensor, flow: torch.Tensor, residual: torch.Tensor,
            t: torch.Tensor) -> torch.Tensor:
    """Frame k = ``warp(face, t_k * flow) + t_k * residual``: face ``(B, C, S, S)``, flow
    ``(B, S, S, 2)`` (normalised units), residual ``(B, C, S, S)``, t ``(B, T)`` ->
    clips ``(B, C, T, S, S)`` in [0, 1]. At t = 0 a frame is the face itself."""
    b, frames = t.shape
    c, s = face.shape[1], face.shape[-1]
    base = F.affine_grid(torch.eye(2, 3, device=face.device, dtype=face.dtype).expand(b, 2, 3),
                         [b, c, s, s], align_corners=False)
    tf = t.to(face.dtype).reshape(b, frames, 1, 1, 1)
    # frame k of clip b samples the face at base + t_k * flow (one grid per frame)
    grid = (base.unsqueeze(1) + tf * flow.unsqueeze(1)).reshape(b * frames, s, s, 2)
    faces = face.unsqueeze(1).expand(b, frames, c, s, s).reshape(b * frames, c, s, s)
    warped = F.grid_sample(faces, grid, mode="bilinear", padding_mode="border",
                           align_corners=False).reshape(b, frames, c, s, s)
    out = (warped + tf * residual.unsqueeze(1)).clamp(0.0, 1.0)
    return out.transpose(1, 2)                                       # (B, C, T, S, S)


def _conv_down(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, stride=2, padding=1),
                         nn.GroupNorm(min(8, cout), cout), nn.LeakyReLU(0.2))


class ReenactGenerator(nn.Module):
    """``forward(z (B, Z), y (B,), t (B, T), source (B, C, S, S)) -> (B, C, T, S, S)``.

    Reenactment of training identities: the clip's neutral face is a real neutral frame of a
    training clip (``source``); a small U-Net reads it and, conditioned by FiLM on the clip's
    latent and class, predicts the expression's displacement field and shading residual at
    half resolution; frames follow ``animate``. The faces are real, the expressions are
    generated, and a whole clip costs about one image-to-image pass.
    """

    def __init__(self, *, num_classes: int, latent_dim: int = 64, channels: int = 1,
                 size: int = 48, width: int = 16, embed_dim: int = 32):
        super().__init__()
        if size % 8:
            raise ValueError(f"augment.sd.size must be divisible by 8, got {size}")
        self.latent_dim, self.channels, self.size = latent_dim, channels, size
        w, cond = width, latent_dim + embed_dim
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.enc1, self.enc2 = _conv_down(channels, w), _conv_down(w, 2 * w)   # S/2, S/4
        self.enc3 = _conv_down(2 * w, 4 * w)                                   # S/8
        self.mid = FiLMBlock(4 * w, 4 * w, cond, upsample=False)
        self.up1 = FiLMBlock(4 * w + 2 * w, 2 * w, cond)                       # S/4
        self.up2 = FiLMBlock(2 * w + w, 2 * w, cond)                           # S/2
        self.to_motion = nn.Conv2d(2 * w, 2 + channels, 3, padding=1)
        nn.init.zeros_(self.to_motion.weight)   # start from "no expression": frames = source
        nn.init.zeros_(self.to_motion.bias)

    def forward(self, z: torch.Tensor, y: torch.Tensor, t: torch.Tensor,
                source: torch.Tensor | None = None) -> torch.Tensor:
        if source is None:
            raise ValueError("ReenactGenerator needs source neutral frames (B, C, S, S)")
        cond = torch.cat([z, self.embed(y)], dim=1)
        e1 = self.enc1(source)
        e2 = self.enc2(e1)
        h = self.mid(self.enc3(e2), cond)
        h = self.up2(self.up1(h, cond, e2), cond, e1)
        m = F.interpolate(self.to_motion(h), size=(self.size, self.size), mode="bilinear",
                          align_corners=False)
        flow = MAX_FLOW * torch.tanh(m[:, :2]).permute(0, 2, 3, 1)
        shade = torch.tanh(m[:, 2:])
        # zero-mean shading: an expression changes parts of the face, not the exposure, and a
        # global brightness drift is the cheapest shortcut a weak critic lets through
        shade = shade - shade.mean(dim=(2, 3), keepdim=True)
        return animate(source, flow, shade, t)


GENERATORS = {"reenact": ReenactGenerator, "synthesize": ClipGenerator}


def _maybe_sn(module: nn.Module, sn: bool) -> nn.Module:
    return spectral_norm(module) if sn else module


def _sn_conv(cin: int, cout: int, sn: bool = True) -> nn.Module:
    return _maybe_sn(nn.Conv2d(cin, cout, 4, stride=2, padding=1), sn)


class _Trunk(nn.Module):
    """Four stride-2 SN convs with LeakyReLU, then a sum over space: (N, Cin, H, W) -> (N, 8w)."""

    def __init__(self, cin: int, width: int, sn: bool = True):
        super().__init__()
        chans = [cin, width, 2 * width, 4 * width, 8 * width]
        self.convs = nn.ModuleList([_sn_conv(a, b, sn) for a, b in zip(chans[:-1], chans[1:])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return x.sum(dim=(2, 3))


class FrameCritic(nn.Module):
    """``forward(x (N, 2C, H, W), y (N,), t (N,)) -> (N,)`` realness scores; x = a frame and
    ``DIFF_GAIN`` x its difference from the clip's first frame (``frame_pairs``).

    Projection: ``w.h + <e_a(y), h> + t * <e_b(y), h>``, so the class evidence it expects grows
    with the frame's intensity (a neutral frame carries little class information).
    """

    def __init__(self, *, num_classes: int, channels: int = 1, width: int = 16, sn: bool = True):
        super().__init__()
        self.trunk = _Trunk(2 * channels, width, sn)
        self.linear = _maybe_sn(nn.Linear(8 * width, 1), sn)
        self.embed_a = _maybe_sn(nn.Embedding(num_classes, 8 * width), sn)
        self.embed_b = _maybe_sn(nn.Embedding(num_classes, 8 * width), sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        proj = (self.embed_a(y) * h).sum(1) + t.to(h.dtype) * (self.embed_b(y) * h).sum(1)
        return self.linear(h).squeeze(1) + proj


# Scale of the frame differences the critics see: expression motion is a few grey levels per
# frame, and at gain 1 neither critic learned to tell static from moving clips in 150 steps on
# the demo data (gain 10: hinge loss 2.0 -> 0.4), so the generator got no signal to move.
DIFF_GAIN = 10.0


def frame_pairs(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B, 2C, T, H, W)``: each frame and its scaled change since frame 0."""
    return torch.cat([x, DIFF_GAIN * (x - x[:, :, :1])], dim=1)


def clip_channels(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B, C*(2T-1), H, W)``: the frames, then their differences
    (times ``DIFF_GAIN``: expression motion is a few grey levels per frame)."""
    diffs = DIFF_GAIN * (x[:, :, 1:] - x[:, :, :-1])
    b, _, _, h, w = x.shape
    return torch.cat([x.reshape(b, -1, h, w), diffs.reshape(b, -1, h, w)], dim=1)


class ClipCritic(nn.Module):
    """``forward(x (B, C, T, H, W), y (B,)) -> (B,)`` realness scores of whole clips."""

    def __init__(self, *, num_classes: int, channels: int = 1, frames: int = 8, width: int = 16,
                 sn: bool = True):
        super().__init__()
        self.trunk = _Trunk(channels * (2 * frames - 1), width, sn)
        self.linear = _maybe_sn(nn.Linear(8 * width, 1), sn)
        self.embed = _maybe_sn(nn.Embedding(num_classes, 8 * width), sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.trunk(clip_channels(x))
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(1)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
