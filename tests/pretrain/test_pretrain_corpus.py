"""Pretraining corpora: OGB's PCQM4Mv2 raw format, SMILES files, reproducible subsampling, cache."""

import gzip

import numpy as np
import pytest

from molpeg_bench.benchmark.data.dataset import file_sha256
from molpeg_bench.pretrain.corpus import load_corpus, nci_smiles_file, read_smiles_file, resolve_corpus, subsample_rows

PCQM_ROWS = [  # idx,smiles,homolumogap as in OGB's data.csv.gz; the test-split rows have no gap
    (0, "O=C1[N]c2ccncc2[CH][C@@H]1c1ccc(cc1)C", 3.0476751256),
    (1, "COc1cc(OC)ccc1/C=C/N(C(=O)C)C", 4.4108136899),
    (2, "C=CCN(C(=O)C)/C=C/c1ccccc1C", 4.6396733856),
    (3, "CCO", None),
    (4, "c1ccccc1", None),
]


def write_pcqm(root, header="idx,smiles,homolumogap"):
    path = root / "pcqm4m-v2" / "raw" / "data.csv.gz"
    path.parent.mkdir(parents=True)
    lines = [header] + [f"{i},{s},{'' if gap is None else gap}" for i, s, gap in PCQM_ROWS]
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test_pcqm4mv2_raw_file_loads_and_caches(tmp_path):
    path = write_pcqm(tmp_path / "data")
    store = load_corpus("pcqm4mv2", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", download=False)
    assert store.smiles == [s for _, s, _ in PCQM_ROWS]
    assert store.num_tasks == 0 and len(store) == 5
    assert store.meta["corpus"] == "pcqm4mv2" and store.meta["source_sha256"] == file_sha256(path)
    cached = list((tmp_path / "cache" / "graphs").glob("corpus-pcqm4mv2-*.pt"))
    assert len(cached) == 1
    again = load_corpus("pcqm4mv2", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", download=False)
    assert again.smiles == store.smiles and (again.x == store.x).all()


def test_pcqm4mv2_missing_offline_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"pcqm4m-v2/raw/data\.csv\.gz"):
        resolve_corpus("pcqm4mv2", data_dir=tmp_path, cache_dir=tmp_path / "cache", download=False)


def test_pcqm4mv2_wrong_header_is_rejected(tmp_path):
    write_pcqm(tmp_path, header="id,SMILES,gap")
    with pytest.raises(ValueError, match="idx, smiles|'idx', 'smiles'"):
        load_corpus("pcqm4mv2", data_dir=tmp_path, cache_dir=tmp_path / "cache", download=False)


def test_smiles_file_formats(tmp_path):
    (tmp_path / "a.smi").write_text("smiles name\nCCO ethanol\n\nc1ccccc1\tbenzene\n")
    assert read_smiles_file(tmp_path / "a.smi") == ["CCO", "c1ccccc1"]
    (tmp_path / "b.csv").write_text("id,SMILES\n1,CCO\n2,CCN\n")
    assert read_smiles_file(tmp_path / "b.csv") == ["CCO", "CCN"]
    (tmp_path / "c.csv").write_text("molecule,weight\nCCO,46\nC,16\n")
    assert read_smiles_file(tmp_path / "c.csv") == ["CCO", "C"]
    nci = read_smiles_file(nci_smiles_file())
    assert len(nci) == 4999 and nci[0] == "CC1=CC(=O)C=CC1=O"


def test_smiles_file_subsampling_is_reproducible(tmp_path):
    path = tmp_path / "mols.csv.gz"
    smiles = ["C" * k + "O" for k in range(1, 61)]
    with gzip.open(path, "wt") as f:
        f.write("smiles\n" + "\n".join(smiles) + "\n")
    spec = f"smiles:{path}"
    a = load_corpus(spec, max_molecules=10, seed=1, cache_dir=tmp_path / "c1")
    b = load_corpus(spec, max_molecules=10, seed=1, cache_dir=tmp_path / "c2")
    c = load_corpus(spec, max_molecules=10, seed=2, cache_dir=tmp_path / "c1")
    full = load_corpus(spec, cache_dir=tmp_path / "c1")
    assert a.smiles == b.smiles and len(a) == 10 and set(a.smiles) <= set(smiles)
    assert c.smiles != a.smiles
    assert full.smiles == smiles and full.meta["rows_in_file"] == 60
    assert a.meta["max_molecules"] == 10 and a.meta["subsample_seed"] == 1
    assert len(list((tmp_path / "c1" / "graphs").glob("corpus-mols-*.pt"))) == 3  # one cache per subsample
    rows = subsample_rows(1000, 50, seed=7)
    assert np.array_equal(rows, subsample_rows(1000, 50, seed=7)) and np.array_equal(rows, np.unique(rows))
    assert subsample_rows(1000, None, 7) is None and subsample_rows(10, 50, 7) is None


def test_unknown_and_missing_corpora(tmp_path):
    with pytest.raises(ValueError, match="unknown corpus"):
        resolve_corpus("zinc")
    with pytest.raises(FileNotFoundError, match="moses_train.csv.gz"):
        resolve_corpus("moses", data_dir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        resolve_corpus(f"smiles:{tmp_path / 'none.csv'}")
