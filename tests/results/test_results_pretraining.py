import re

import pytest

from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.pretraining import pretraining_table
from tests.support.records import make_record


def test_pretraining_table_means_per_checkpoint(tmp_path):
    records = [make_record(seed=s, test=t) for s, t in enumerate([0.70, 0.74, 0.72])]
    records += [make_record(seed=s, test=t, checkpoint="ckpt/graphmae.pt") for s, t in enumerate([0.80, 0.78])]
    records.append(make_record(method="molpeg", ratio=60, test=0.99))  # not a whole-dataset run
    csv, md = pretraining_table(runs_frame(records), tmp_path)
    text = md.read_text()
    assert re.search(r"\| hiv \| smoke \| no pretraining \| \w{8} \| 3 \| 72\.0 \| 2\.0 \|", text)
    assert "graphmae" in text and "| 2 | 79.0 | 1.4 |" in text and "99.0" not in text
    with pytest.raises(ValueError, match="whole-dataset"):
        pretraining_table(runs_frame(records[-1:]), tmp_path)
