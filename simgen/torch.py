"""PyTorch glue (`pip install simgen[torch]`): a map-style Dataset, a shard-aware sampler and
a faster DataLoader.

    from torch.utils.data import DataLoader
    ds = simgen.torch.TupleDataset("ds/", split="train")
    loader = DataLoader(ds, batch_size=64, sampler=simgen.torch.ShardSampler(ds, seed=0),
                        num_workers=2, persistent_workers=True)
    for images, labels in loader: ...     # images (B, k, H, W, C) uint8, labels (B, k-1) uint8

Faster (whole batches per worker call, reused shared-memory buffers): swap DataLoader for
`simgen.torch.TupleLoader` (same arguments), or do it all in one call:

    loader = simgen.torch.data_loader("ds/", batch_size=64, num_workers=2)

Workers may be started by fork, spawn or forkserver: the dataset holds no open file when it is
pickled, and each worker opens the shards it reads itself.
"""
from __future__ import annotations

import copy
import os
from collections import deque
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import (BatchSampler, DataLoader, Dataset, RandomSampler, Sampler,
                              SequentialSampler, default_collate, get_worker_info)

from .errors import SimgenError
from .loaders.numpy import DEFAULT_FIELDS, TupleSplit, load

__all__ = ["ShardSampler", "TupleDataset", "TupleLoader", "data_loader"]


def _to_tensors(item: tuple[np.ndarray, ...]) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in item)


class SharedRing:
    """A worker's `size` reusable shared-memory buffers per field.

    DataLoader moves every batch a worker returns into a fresh shared-memory segment; for
    image batches that costs ~10 ms per 9 MiB (page faults), 5x the HDF5 read itself. A batch
    placed in an already shared buffer is sent as a handle instead, with no copy.
    """

    def __init__(self, size: int):
        self.size, self.count = size, 0
        self.buffers: dict[tuple[int, int], torch.Tensor] = {}

    def place(self, arrays: tuple[np.ndarray, ...]) -> tuple[torch.Tensor, ...]:
        """Copy `arrays` into the next slot's buffers; return views of them."""
        slot, self.count = self.count % self.size, self.count + 1
        out = []
        for field, a in enumerate(arrays):
            a = np.ascontiguousarray(a)
            buf = self.buffers.get((slot, field))
            if buf is None or buf.shape[1:] != a.shape[1:] or len(buf) < len(a) \
                    or buf.numpy().dtype != a.dtype:
                buf = torch.from_numpy(np.empty(a.shape, a.dtype)).share_memory_()
                self.buffers[(slot, field)] = buf
            view = buf[: len(a)]
            view.numpy()[...] = a
            out.append(view)
        return tuple(out)


class TupleDataset(Dataset):
    """One split as a `torch.utils.data.Dataset`: item i is (images, labels) as uint8 tensors.

    `fields` picks what an item holds (any of images, labels, classes, sources, in order);
    `transform` (optional) maps the item's tuple of numpy arrays to whatever you need instead.
    `ds[[i, j, …]]` is a whole batch (tensors with a leading axis) read once per shard;
    DataLoader's batched fetches (`__getitems__`) also read each shard once per batch.
    """

    def __init__(self, path: str, split: str = "train", fields: Sequence[str] = DEFAULT_FIELDS,
                 transform: Callable[[tuple], object] | None = None):
        splits = load(path, fields)
        if split not in splits:
            raise SimgenError(f"no split {split!r} in {path}; have {sorted(splits)}")
        self.split: TupleSplit = splits[split]
        self.custom_transform = transform
        self.transform = transform or _to_tensors
        self.ring_size = 0  # set by TupleLoader on its own copy: workers reuse batch buffers
        self._ring: tuple[int, SharedRing] | None = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_ring"] = None
        return state

    def _shared_ring(self) -> SharedRing:
        if self._ring is None or self._ring[0] != os.getpid():
            self._ring = (os.getpid(), SharedRing(self.ring_size))
        return self._ring[1]

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i):
        if isinstance(i, (list, tuple, np.ndarray, torch.Tensor)):
            return self.batch(i)
        return self.transform(self.split.get(i))

    def batch(self, indices: Sequence[int]):
        """Tuples at `indices` stacked into batch tensors (transformed one by one if asked)."""
        arrays = self.split.take(np.asarray(indices, dtype=np.int64))
        if self.custom_transform is None:
            if self.ring_size and get_worker_info() is not None:
                return self._shared_ring().place(arrays)
            return _to_tensors(arrays)
        return default_collate([self.transform(item) for item in zip(*arrays)])

    def __getitems__(self, indices: Sequence[int]) -> list:
        arrays = self.split.take(indices)
        return [self.transform(item) for item in zip(*arrays)]


def _shard_ranges(split: TupleSplit) -> list[range]:
    """The row range of every shard, in file order."""
    bounds = split.offsets.tolist()
    return [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def buffer_shuffle(stream: Iterator[int], size: int, rng: np.random.Generator
                   ) -> Iterator[int]:
    """A shuffle buffer (as tf.data and WebDataset): each output is a random buffered item."""
    buffer: list[int] = []
    for item in stream:
        if len(buffer) < size:
            buffer.append(item)
            continue
        j = int(rng.integers(size))
        yield buffer[j]
        buffer[j] = item
    yield from (buffer[j] for j in rng.permutation(len(buffer)))


class ShardSampler(Sampler[int]):
    """Reads shards one after another (their order reshuffled every epoch) and shuffles rows
    through a `buffer_size` buffer, so each batch touches one or two shards, not all of them.

    `shuffle=False` gives plain file order. Call `set_epoch(e)` for a new order each epoch
    (it also advances by itself on every iteration); the order depends only on seed and epoch.
    """

    def __init__(self, data: TupleDataset | TupleSplit, shuffle: bool = True,
                 buffer_size: int = 4096, seed: int = 0):
        self.split = data.split if isinstance(data, TupleDataset) else data
        if buffer_size < 1:
            raise SimgenError(f"buffer_size must be at least 1, received: {buffer_size}")
        self.shuffle, self.buffer_size, self.seed, self.epoch = shuffle, buffer_size, seed, 0

    def __len__(self) -> int:
        return len(self.split)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        ranges = _shard_ranges(self.split)
        if not self.shuffle:
            for r in ranges:
                yield from r
            return
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        stream = (i for s in rng.permutation(len(ranges)) for i in ranges[s])
        yield from buffer_shuffle(stream, self.buffer_size, rng)


class TupleLoader(DataLoader):
    """A drop-in DataLoader for a TupleDataset that fetches whole batches per worker call
    (`dataset[indices]`: one read per shard, no per-tuple collation), lets workers reuse
    shared-memory batch buffers (see SharedRing), and hands out a private copy of every
    batch, so keeping batches is safe.

    `TupleLoader(ds, batch_size=64, shuffle=True, num_workers=2)` takes DataLoader's
    arguments; batch_size / shuffle / sampler / drop_last are turned into a BatchSampler, so
    `loader.batch_size` is None. Each worker cycles through prefetch_factor + 2 buffers; it
    can refill one only after the main process has taken (and copied) the batch in it,
    because DataLoader never gives a worker more than prefetch_factor batches ahead.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, drop_last: bool = False, **kwargs):
        ours = isinstance(dataset, TupleDataset)
        if ours:
            dataset = copy.copy(dataset)  # the caller's dataset stays safe in other loaders
        if ours and batch_size is not None and kwargs.get("batch_sampler") is None \
                and "collate_fn" not in kwargs and not (sampler is not None and shuffle):
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=kwargs.get("generator")) if shuffle
                           else SequentialSampler(dataset))
            sampler = BatchSampler(sampler, batch_size, drop_last)
            batch_size, shuffle, drop_last = None, None, False
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler,
                         drop_last=drop_last, **kwargs)
        reuse = ours and dataset.custom_transform is None and self.batch_size is None
        self.ring_size = (self.prefetch_factor or 2) + 2 if reuse and self.num_workers else 0
        if ours:
            dataset.ring_size = self.ring_size

    def __iter__(self):
        batches = super().__iter__()
        if not self.ring_size:
            yield from batches
            return
        mapped = deque(maxlen=self.num_workers * self.ring_size)  # keeps buffers mapped once
        for batch in batches:
            mapped.append(batch)
            yield tuple(t.clone() for t in batch)


def data_loader(path: str, split: str = "train", batch_size: int | None = None, shuffle: bool = True,
                seed: int = 0, buffer_size: int = 4096, num_workers: int = 2,
                drop_last: bool = False, fields: Sequence[str] = DEFAULT_FIELDS,
                transform: Callable[[tuple], object] | None = None, **kwargs) -> "TupleLoader":
    """A ready TupleLoader over ShardSampler batches (shard by shard, shuffle buffer);
    persistent workers when there are any; batch_size defaults to the build's --batch-size.
    Extra keywords go to DataLoader."""
    dataset = TupleDataset(path, split, fields=fields, transform=transform)
    batch_size = batch_size or dataset.split.batch_size
    sampler = ShardSampler(dataset, shuffle=shuffle, buffer_size=buffer_size, seed=seed)
    kwargs.setdefault("persistent_workers", num_workers > 0)
    return TupleLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last,
                       num_workers=num_workers, **kwargs)
