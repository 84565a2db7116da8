"""The video collections the benchmarks are built on, as data: frame rate, the public feature
releases' raw layouts, streams and crops.

A collection is shared by every benchmark over its videos (UCFCrime-AR and any later benchmark on
UCF-Crime videos), so its layouts are declared once and its feature store is built once. Each
layout declares its release's folder tree (``tree``: the folder of a video's files per stream and
upstream split), from which synthetic and test trees are written.
"""

from __future__ import annotations

from var_bench.benchmarks.spec import Layout, VideoCollection

UCF_CRIME = VideoCollection(
    name="ucf-crime",
    title="UCF-Crime",
    fps=30.0,
    layouts=(
        Layout(
            "ucf-crops",
            "{stem}__{crop}.npy",
            1024,
            flow=True,
            tree={"rgb": "{Split}/RGB/{class}", "flow": "{Split}/Flow/{class}"},
            doc="Peng Wu's UCF-Crime I3D release: <Class>/<Stem>__<k>.npy, [T, 1024] per crop",
        ),
        Layout(
            "ucf-rtfm",
            "{stem}_i3d.npy",
            2048,
            crops="axis",
            tree="UCF_{Split}_ten_crop_i3d",
            doc="RTFM: UCF_{Train,Test}_ten_crop_i3d/<Stem>_i3d.npy, [T, 10, 2048]",
        ),
        Layout(
            "vadclip-ucf",
            "{stem}__{crop}.npy",
            512,
            stream="clip",
            tree="{class}",
            doc="VadCLIP CLIP ViT-B/16: <Class>/<Stem>__<k>.npy, [T, 512] per crop, 10 crops",
        ),
        Layout(
            "pel4vad-ucf",
            "{stem}__{crop}.npy",
            1024,
            crop0_file="{stem}.npy",
            doc="PEL4VAD: the I3D release with crop 0 renamed <Stem>.npy",
        ),
        Layout(
            "tevad-text-ucf",
            "{stem}_emb.npy",
            768,
            crops="none",
            stream="text_emb",
            tree="{split}_text",
            doc="TEVAD caption embeddings: <Stem>_emb.npy, [T, 768]",
        ),
    ),
    public_streams=("rgb",),
    upstream_crops=10,
)

XD_VIOLENCE = VideoCollection(
    name="xd-violence",
    title="XD-Violence",
    fps=24.0,
    layouts=(
        Layout(
            "xd-i3d",
            "{stem}__{crop}.npy",
            1024,
            flow=True,
            tree={
                "rgb/train": "RGB",
                "rgb/test": "RGBTest",
                "flow/train": "Flow",
                "flow/test": "FlowTest",
            },
            doc="XD-Violence I3D: RGB|RGBTest|Flow|FlowTest/<Stem>__<k>.npy, [T, 1024] per crop",
        ),
        Layout(
            "xd-tevad",
            "{stem}_i3d.npy",
            1024,
            crops="axis",
            tree="xd_{split}_i3d",
            doc="TEVAD's stacked XD I3D: <Stem>_i3d.npy, [T, 5, 1024]",
        ),
        Layout(
            "vadclip-xd",
            "{stem}__{crop}.npy",
            512,
            stream="clip",
            folder="XD*ClipFeatures",
            tree="XD{Split}ClipFeatures",
            doc="VadCLIP CLIP ViT-B/16: XD*ClipFeatures/<Stem>__<k>.npy, [T, 512], 10 crops",
        ),
        Layout(
            "tevad-text-xd",
            "{stem}_emb.npy",
            768,
            crops="none",
            stream="text_emb",
            tree="{split}_text",
            doc="TEVAD caption embeddings: <Stem>_emb.npy, [T, 768]",
        ),
        Layout(
            "xd-vggish",
            "{stem}__vggish.npy",
            128,
            crops="none",
            stream="audio",
            audio=True,
            tree="vggish-features/{split}",
            doc="XD-Violence VGGish: vggish-features/{train,test}/<Stem>__vggish.npy, [T, 128]",
        ),
    ),
    public_streams=("rgb", "flow", "audio"),
    upstream_crops=5,
)

#: Every collection, by name.
COLLECTIONS: dict[str, VideoCollection] = {c.name: c for c in (UCF_CRIME, XD_VIOLENCE)}
