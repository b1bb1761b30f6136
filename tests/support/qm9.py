"""QM9 as files: rows of ``qm9_3d.csv.xz`` and PyG's ``QM9`` root (raw SDF + csv + uncharacterized.txt, or the
preprocessed ``qm9_v3.pt``) written from them."""

from __future__ import annotations

import lzma

import numpy as np
import pandas as pd
import torch

QM9_HEADER = "gdb_idx,smiles,n_atoms,elements,xyz,zpve,U0\n"
# methane and water with made-up but exact coordinates; energies of QM9 entries 1 and 3 (Hartree)
QM9_ROWS = ("1,C,5,CHHHH,0 0 0 0.63 0.63 0.63 -0.63 -0.63 0.63 -0.63 0.63 -0.63 0.63 -0.63 -0.63,0.044749,-40.47893\n"
            "3,O,3,OHH,0 0 0 0.96 0 0 -0.24 0.93 0,0.021375,-76.404702\n")

HA_EV = 27.211386246
REF_HA = {"H": -0.500273, "C": -37.846772, "N": -54.583861, "O": -75.064579, "F": -99.718730}
PYG_CSV_HEADER = ("mol_id,A,B,C,mu,alpha,homo,lumo,gap,r2,zpve,u0,u298,h298,g298,cv,"
                  "u0_atom,u298_atom,h298_atom,g298_atom")
# PyG reads the lines [9:-2] of uncharacterized.txt: 9 header lines, the indices, a closing rule
UNCHARACTERIZED_HEADER = ["", "List of molecules among the 133885 GDB9 molecules for which the Corina generated",
                          "Cartesian coordinates and the B3LYP/6-31G(2df,p) equilibrium geometry lead to",
                          "different SMILES and InChI strings when parsed through the program Openbabel.",
                          "Given are the indices of these molecules in the database.", "", "=" * 60,
                          "#   Index      GDB17 SMILES      SMILES for B3LYP XYZ", "=" * 60]
FILLER = ("OO", "0 0 0 1.45 0 0")  # stands in for each uncharacterized molecule; must never be read


def qm9_rows(text: str) -> pd.DataFrame:
    """Rows of ``qm9_3d.csv.xz`` as the text of a CSV with its header."""
    from io import StringIO

    return pd.read_csv(StringIO(text), dtype={"xyz": str, "elements": str})


def write_csv(rows: pd.DataFrame, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with lzma.open(folder / "qm9_3d.csv.xz", "wt") as f:
        rows.to_csv(f, index=False)


def molblock(elements: str, xyz: str, name: str) -> str:
    """A molblock of the atoms and coordinates (no bonds), as RDKit writes it."""
    from rdkit import Chem

    coords = np.array(xyz.split(), dtype=np.float64).reshape(-1, 3)
    mol = Chem.RWMol()
    for symbol in elements:
        mol.AddAtom(Chem.Atom(symbol))
    conformer = Chem.Conformer(len(elements))
    conformer.Set3D(True)
    for i, p in enumerate(coords):
        conformer.SetAtomPosition(i, p.tolist())
    mol.AddConformer(conformer)
    mol = mol.GetMol()
    mol.UpdatePropertyCache(strict=False)
    mol.SetProp("_Name", name)
    return Chem.MolToMolBlock(mol, kekulize=False)


def atomization_ev(row) -> float:
    return (row.U0 - sum(REF_HA[s] for s in row.elements)) * HA_EV


def write_pyg_raw(rows: pd.DataFrame, root) -> list[int]:
    """PyG's raw layout for QM9 indices 1..max(gdb_idx): the rows' molecules, a filler at every missing index,
    listed in uncharacterized.txt. Returns the filler indices."""
    raw = root / "raw"
    raw.mkdir(parents=True)
    by_idx = {int(r.gdb_idx): r for r in rows.itertuples()}
    blocks, lines, skipped = [], [PYG_CSV_HEADER], []
    for idx in range(1, max(by_idx) + 1):
        row = by_idx.get(idx)
        if row is None:
            skipped.append(idx)
            blocks.append(molblock(*FILLER, f"gdb_{idx}"))
            lines.append(f"gdb_{idx}," + ",".join(["-1.0"] * 19))
            continue
        blocks.append(molblock(row.elements, row.xyz, f"gdb_{idx}"))
        u0_atom_kcal = atomization_ev(row) / HA_EV * 627.5095
        values = [1.0, 2.0, 3.0, 0.5, 9.0, -0.3, 0.1, 0.4, 30.0, row.zpve, row.U0, row.U0 + 0.003, row.U0 + 0.004,
                  row.U0 - 0.02, 6.0, u0_atom_kcal, u0_atom_kcal - 2, u0_atom_kcal - 3, u0_atom_kcal + 20]
        lines.append(f"gdb_{idx}," + ",".join(repr(float(v)) for v in values))
    (raw / "gdb9.sdf").write_text("".join(b + "$$$$\n" for b in blocks))
    (raw / "gdb9.sdf.csv").write_text("\n".join(lines) + "\n")
    entries = [f"{idx:8d}          OO          OO          OO          1.0" for idx in skipped]
    (raw / "uncharacterized.txt").write_text("\n".join(UNCHARACTERIZED_HEADER + entries + ["=" * 60]) + "\n")
    return skipped


def write_pyg_processed(rows: pd.DataFrame, root) -> None:
    """PyG's ``qm9_v3.pt``: one dict per kept molecule, y [1, 19] in PyG's units and column order."""
    raw = root / "raw"
    raw.mkdir(parents=True)
    data = []
    for row in rows.itertuples():
        y = torch.arange(19, dtype=torch.float32)[None] * 1000  # every other column is obviously wrong
        y[0, 6], y[0, 7], y[0, 12] = row.zpve * HA_EV, row.U0 * HA_EV, atomization_ev(row)
        z = torch.tensor([{"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}[s] for s in row.elements])
        pos = torch.tensor(np.array(row.xyz.split(), dtype=np.float64).reshape(-1, 3), dtype=torch.float32)
        data.append({"x": torch.zeros(len(z), 11), "edge_index": torch.zeros(2, 0, dtype=torch.long), "y": y,
                     "pos": pos, "z": z, "name": f"gdb_{row.gdb_idx}", "idx": int(row.gdb_idx) - 1})
    torch.save(data, raw / "qm9_v3.pt")
