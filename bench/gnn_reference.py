"""The GNN of bench_gnn.cpp in PyTorch eager Python, the way it is usually written:
MLPs on concatenated [edge, sender, receiver] features and index_add_ aggregation.

Loads the weights, graphs and input bench_gnn wrote, checks the output agrees to 1e-5,
then times one forward pass and one training step (forward, backward, AdamW) with the
same torch version and thread count. Prints the figures and the Gale/Python ratios.

    python bench/gnn_reference.py OUT_DIR
"""
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Mlp(nn.Module):
    def __init__(self, n_in, hidden, n_out, layer_norm=True):
        super().__init__()
        self.first = nn.Linear(n_in, hidden)
        self.second = nn.Linear(hidden, n_out)
        self.norm = nn.LayerNorm(n_out) if layer_norm else None

    def forward(self, x):
        y = self.second(F.silu(self.first(x)))
        return self.norm(y) if self.norm is not None else y


class Interaction(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.edge_mlp = Mlp(3 * latent, latent, latent)
        self.node_mlp = Mlp(2 * latent, latent, latent)

    def forward(self, edges, senders, receivers, graph):
        s_idx, r_idx = graph
        batch = senders.shape[0]
        if edges.dim() == 2:
            edges = edges.unsqueeze(0).expand(batch, -1, -1)
        messages = torch.cat([edges, senders[:, s_idx], receivers[:, r_idx]], dim=-1)
        edges = edges + self.edge_mlp(messages)
        incoming = torch.zeros_like(receivers).index_add_(1, r_idx, edges)
        return edges, receivers + self.node_mlp(torch.cat([receivers, incoming], dim=-1))


class GraphNetwork(nn.Module):
    def __init__(self, spec, graphs):
        super().__init__()
        latent = spec["latent"]
        self.grid_embed = Mlp(spec["in"], latent, latent)
        self.mesh_embed = Mlp(3, latent, latent)
        self.grid_to_mesh_embed = Mlp(4, latent, latent)
        self.mesh_edge_embed = Mlp(4, latent, latent)
        self.mesh_to_grid_embed = Mlp(4, latent, latent)
        self.encoder = Interaction(latent)
        self.grid_update = Mlp(latent, latent, latent)
        self.processor = nn.ModuleList([Interaction(latent) for _ in range(spec["layers"])])
        self.decoder = Interaction(latent)
        self.output = Mlp(latent, latent, spec["out"], layer_norm=False)
        self.graphs = graphs

    def forward(self, x):
        g = self.graphs
        batch = x.shape[0]
        grid = self.grid_embed(x)
        mesh = self.mesh_embed(g["mesh_node_features"]).unsqueeze(0).expand(batch, -1, -1)
        _, mesh = self.encoder(self.grid_to_mesh_embed(g["grid_to_mesh.features"]), grid, mesh, g["grid_to_mesh"])
        grid = grid + self.grid_update(grid)
        edges = self.mesh_edge_embed(g["mesh.features"])
        for layer in self.processor:
            edges, mesh = layer(edges, mesh, mesh, g["mesh"])
        _, grid = self.decoder(self.mesh_to_grid_embed(g["mesh_to_grid.features"]), mesh, grid, g["mesh_to_grid"])
        return self.output(grid)


def median_seconds(repeats, f):
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(out):
    out = Path(out)
    manifest = json.loads((out / "manifest.json").read_text())
    spec = manifest["spec"]
    torch.set_num_threads(spec["threads"])

    def load(name):
        meta = manifest["tensors"][name]
        dtype = np.int64 if meta["dtype"] == "int64" else np.float32
        return torch.from_numpy(np.fromfile(out / f"{name}.bin", dtype=dtype).reshape(meta["shape"]))

    graphs = {"mesh_node_features": load("mesh_node_features")}
    for name in ("grid_to_mesh", "mesh", "mesh_to_grid"):
        graphs[name] = (load(f"{name}.senders"), load(f"{name}.receivers"))
        graphs[f"{name}.features"] = load(f"{name}.features")
    model = GraphNetwork(spec, graphs)
    state = {k[len("param."):]: load(k) for k in manifest["tensors"] if k.startswith("param.")}
    model.load_state_dict(state, strict=True)
    x, target, expected = load("input"), load("target"), load("output")

    with torch.no_grad():
        y = model(x)
        max_diff = (y - expected).abs().max().item()
        forward_s = median_seconds(7, lambda: model(x))
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def train_step():
        optimiser.zero_grad()
        ((model(x) - target) ** 2).mean().backward()
        optimiser.step()

    train_s = median_seconds(5, train_step)
    gale = manifest["gale"]
    print(f"python (PyTorch {torch.__version__} eager, {spec['threads']} threads, batch {spec['batch']}): "
          f"forward {1e3 * forward_s:.1f} ms, training step {1e3 * train_s:.1f} ms")
    print(f"outputs: max |gale - python| = {max_diff:.2e} ({'equal to 1e-5' if max_diff <= 1e-5 else 'DIFFERENT'})")
    print(f"ratio (python time / gale time): forward {forward_s / gale['forward_s']:.2f}x, "
          f"training step {train_s / gale['train_step_s']:.2f}x")
    return 0 if max_diff <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
