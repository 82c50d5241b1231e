"""simgen.torch with the real PyTorch: DataLoader with 2 workers under fork and spawn, the
shard-aware sampler's order and coverage, both layouts."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import simgen
import simgen.torch as st
from shard_tools import convert


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import build_triplets

    root = tmp_path_factory.mktemp("torch")
    out = build_triplets(root, 100, 12, "16KiB")
    indexed = root / "indexed"
    shutil.copytree(out, indexed)
    convert(indexed, "indexed")
    return {"dense": out, "indexed": indexed}


def test_dataset_items_are_tensors(built):
    ds = st.TupleDataset(built["dense"], split="train")
    assert isinstance(ds, torch.utils.data.Dataset) and len(ds) == 100
    images, labels = ds[3]
    ref_images, ref_labels = simgen.load(built["dense"])["train"][3]
    assert images.dtype == torch.uint8 and tuple(images.shape) == (3, 12, 12, 3)
    assert np.array_equal(images.numpy(), ref_images) and np.array_equal(labels.numpy(), ref_labels)
    full = st.TupleDataset(built["dense"], fields=("images", "labels", "classes", "sources"))
    assert [tuple(t.shape) for t in full[3]] == [(3, 12, 12, 3), (2,), (3,), (3,)]
    with pytest.raises(simgen.SimgenError, match="no split 'validation'"):
        st.TupleDataset(built["dense"], split="validation")


@pytest.mark.parametrize("method,layout", [("fork", "dense"), ("fork", "indexed"),
                                           ("spawn", "dense")])
def test_dataloader_two_workers(built, method, layout):
    ds = st.TupleDataset(built[layout], split="train")
    ds[0]  # the parent holds open files before the workers start
    loader = DataLoader(ds, batch_size=16, num_workers=2, multiprocessing_context=method)
    images, labels = zip(*loader)
    images, labels = torch.cat(images), torch.cat(labels)
    ref = simgen.load(built["dense"])["train"][:]
    assert np.array_equal(images.numpy(), ref[0]) and np.array_equal(labels.numpy(), ref[1])


def test_shard_sampler_reads_shards_in_order_with_a_buffer(built):
    ds = st.TupleDataset(built["dense"])
    offsets = ds.split.offsets
    assert len(offsets) > 4
    sampler = st.ShardSampler(ds, buffer_size=8, seed=1)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(100)) and sorted(second) == list(range(100))
    assert first != second  # a new order every epoch
    sampler.set_epoch(0)
    assert list(sampler) == first  # order depends only on seed and epoch
    # shards are read one after another: a window of the stream spans at most two shards
    shard_of = np.searchsorted(offsets, first, side="right") - 1
    for start in range(0, 100 - 8):
        assert len(set(shard_of[start:start + 4].tolist())) <= 3
    assert list(st.ShardSampler(ds, shuffle=False)) == list(range(100))
    with pytest.raises(simgen.SimgenError, match="buffer_size"):
        st.ShardSampler(ds, buffer_size=0)


def test_data_loader_helper_covers_every_tuple_once(built):
    loader = st.data_loader(built["indexed"], batch_size=32, num_workers=2, seed=3,
                            buffer_size=16, multiprocessing_context="fork",
                            fields=("sources", "labels"))
    rows = torch.cat([sources for sources, _ in loader]).numpy()
    ref = simgen.load(built["dense"], fields=("sources",))["train"][:][0]
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, ref.tolist()))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_tuple_loader_reuses_worker_buffers_but_batches_stay_intact(built, method):
    """13 batches through 2 workers x 4 reused buffers: every kept batch still holds its rows."""
    dataset = st.TupleDataset(built["dense"], fields=("images", "labels", "sources"))
    loader = st.data_loader(built["dense"], batch_size=8, shuffle=False, num_workers=2,
                            multiprocessing_context=method, fields=dataset.split.fields)
    assert isinstance(loader, st.TupleLoader) and loader.ring_size == 4
    kept = list(loader)
    assert len(kept) == 13 and dataset.ring_size == 0
    ref = dataset.split[:]
    for j in range(3):
        assert np.array_equal(torch.cat([b[j] for b in kept]).numpy(), ref[j])
    again = torch.cat([b[2] for b in loader]).numpy()  # second epoch, persistent workers
    assert np.array_equal(again, ref[2])


def test_tuple_loader_is_a_drop_in_dataloader(built):
    """TupleLoader(ds, batch_size=…, shuffle=True) batches through the fast path and still
    covers every tuple once; a custom transform still gets one tuple at a time."""
    ds = st.TupleDataset(built["indexed"], fields=("sources",))
    loader = st.TupleLoader(ds, batch_size=16, shuffle=True, num_workers=2,
                            multiprocessing_context="fork", drop_last=True)
    assert loader.ring_size == 4 and len(loader) == 6
    rows = torch.cat([b[0] for b in loader]).numpy()
    ref = simgen.load(built["dense"], fields=("sources",))["train"][:][0]
    assert len(rows) == 96 and set(map(tuple, rows.tolist())) < set(map(tuple, ref.tolist()))
    assert len(set(map(tuple, rows.tolist()))) == 96
    doubled = st.TupleDataset(built["dense"], fields=("sources",),
                              transform=lambda item: torch.from_numpy(item[0] * 2))
    plain = st.TupleLoader(doubled, batch_size=50, num_workers=0)
    assert plain.ring_size == 0
    assert np.array_equal(torch.cat(list(plain)).numpy(), ref * 2)
