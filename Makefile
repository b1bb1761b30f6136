# MolPeg benchmark suite. `make install && make test`, then `make table1`.
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/molpeg-bench
TORCH_VERSION ?= 2.13.0
# Empty: torch from PyPI (the CUDA build on a GPU node) or a local wheel. On a CPU-only laptop without
# a local wheel use TORCH_INDEX=https://download.pytorch.org/whl/cpu to avoid the multi-GB CUDA build.
TORCH_INDEX ?=
PRESET ?= smoke
JOBS ?= 2
CHECKPOINT ?=
ckpt_flag := $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT),)
# METHODS="my_pruner pkg.module:Class": add these methods' rows (built-in, entry point or module:Class)
METHODS ?=
# SEEDS="0 1 2": replace the preset's seeds (the paired p-values need two or more)
SEEDS ?=
method_flags := $(foreach m,$(METHODS),--method $(m)) $(if $(SEEDS),--seeds $(SEEDS),)
# where the runs execute: local (worker processes), debug (in process) or slurm (job arrays; PROFILE =
# a cluster profile TOML, default slurm/profiles/default.toml). With slurm, `sweep` submits and returns;
# `make status` watches; `collect` (the last step of each target) reports whatever is done. WAIT=1: the
# sweep waits for the arrays (a progress line as runs finish), so the tables and figures are complete.
EXECUTOR ?= local
PROFILE ?=
WAIT ?=
exec_flags := --executor $(EXECUTOR) $(if $(PROFILE),--profile $(PROFILE),) $(if $(WAIT),--wait,)
GRID ?= table1

.PHONY: install test test-fast lint docs mutants check-method demo table1 fig3 fig5 fig6 fig4 figures pretrain bench bench-memory status clean pretrain3d table2 table3 qm9-pretraining \
	release-checkpoint release release-v2 release-report release-manifest report-html gpu-check

install:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
	$(PY) -m pip install --quiet -e ".[suite,dev,docs]"

# every test (tests/ mirrors the packages; marks in pyproject.toml). test-fast leaves out the slow tests (over
# about 20 s each) and those that need a SLURM cluster, pdflatex or Chromium; tests reading the real datasets
# (mark shared_data) still run where MOLPEG_DATA_DIR holds them
test:
	$(PY) -m pytest tests

test-fast:
	$(PY) -m pytest tests -m "not slow and not slurm and not latex and not browser"

lint:
	$(VENV)/bin/ruff check .

# the documentation site in site/ (mkdocs.yml; strict: a broken link or anchor fails)
docs:
	$(PY) -m mkdocs build --strict --site-dir site

# the contract check of a method: make check-method METHOD=my_pruner (or module.path:ClassName)
check-method:
	$(CLI) check-method $(METHOD)

# every method's known-answer tests against plausible wrong versions of it (one line per method; fails on a survivor)
mutants:
	$(PY) -m tests.mutation

demo:
	$(CLI) sweep table1 --preset demo --jobs $(JOBS)
	$(CLI) report table1 --preset demo
	@cat out/demo/table1_comparison.md

table1:
	$(CLI) sweep table1 --preset $(PRESET) --jobs $(JOBS) $(ckpt_flag) $(exec_flags) $(method_flags)
	$(CLI) collect table1 --preset $(PRESET) $(ckpt_flag) $(method_flags)
	$(CLI) collect fig4 --preset $(PRESET) $(ckpt_flag) $(method_flags)
	@cat out/$(PRESET)/table1_comparison.md 2>/dev/null || true

# Figure 4: test metric vs time efficiency of every method at pruning 0.6 (Table 1's runs on the first dataset)
fig4:
	$(CLI) sweep fig4 --preset $(PRESET) --jobs $(JOBS) $(ckpt_flag) $(exec_flags)
	$(CLI) collect fig4 --preset $(PRESET) $(ckpt_flag)

fig3:
	$(CLI) sweep fig3 --preset $(PRESET) --jobs $(JOBS) $(ckpt_flag) $(exec_flags)
	$(CLI) collect fig3 --preset $(PRESET) $(ckpt_flag)

fig6:
	$(CLI) sweep fig6 --preset $(PRESET) --jobs $(JOBS) $(ckpt_flag) $(exec_flags)
	$(CLI) collect fig6 --preset $(PRESET) $(ckpt_flag)

# Figure 5: the Table 1 methods on HIV fine-tuned from the GraphMAE and from the GraphCL checkpoint
CKPT_DIR ?= checkpoints/$(PRESET)
fig5: pretrain
	$(CLI) sweep fig5 --preset $(PRESET) --jobs $(JOBS) $(exec_flags) \
		--checkpoint $(CKPT_DIR)/graphmae.pt --checkpoint $(CKPT_DIR)/graphcl.pt
	$(CLI) collect fig5 --preset $(PRESET) \
		--checkpoint $(CKPT_DIR)/graphmae.pt --checkpoint $(CKPT_DIR)/graphcl.pt

figures: fig3 fig4 fig5 fig6

# GraphMAE + GraphCL checkpoints (smoke: offline, RDKit's NCI molecules, minutes on a CPU)
pretrain:
	$(CLI) pretrain --preset $(PRESET) --out $(CKPT_DIR)

# peak memory of every last-layer-factor method's selection at PCBA scale (tens of minutes on 2 cores)
bench-memory:
	MOLPEG_PCBA_SCALE=1 $(PY) -m pytest tests/methods/test_methods_scale.py -k pcba_scale -v
	$(PY) -m molpeg_bench.bench.factor_memory

bench:
	$(PY) -m molpeg_bench.bench.finetune
	$(PY) -m molpeg_bench.bench.pretraining
	$(PY) -m molpeg_bench.bench.models_3d

# done / running / failed / pending runs of GRID at PRESET, failed runs with their error and log tail
status:
	$(CLI) status $(GRID) --preset $(PRESET) $(ckpt_flag)

clean:
	rm -rf runs out checkpoints

# 3D path (Tables 2 and 3): GeoSSL-DDM encoders on MOSES conformers, then the grids in their own run store.
# PROTOCOL=molscaling: Table 2 under MolScaling's fine-tuning protocol, in its own store and output folder
PROTOCOL ?= geossl
protocol_tag := $(if $(filter-out geossl,$(PROTOCOL)),-$(PROTOCOL),)
STORE_3D ?= runs/$(PRESET)-3d$(protocol_tag)
OUT_3D ?= out/$(PRESET)$(protocol_tag)
pretrain3d:
	$(CLI) pretrain-3d --preset $(PRESET) --out $(CKPT_DIR)

table2: pretrain3d
	$(CLI) sweep table2 --preset $(PRESET) --store $(STORE_3D) --jobs $(JOBS) $(exec_flags) \
		--checkpoint $(CKPT_DIR)/geossl_ddm_painn.pt --protocol $(PROTOCOL)
	$(CLI) report table2 --preset $(PRESET) --store $(STORE_3D) --out $(OUT_3D)
	@cat $(OUT_3D)/table2_comparison.md

table3: pretrain3d
	$(CLI) sweep table3 --preset $(PRESET) --store $(STORE_3D) --jobs $(JOBS) $(exec_flags) \
		--checkpoint $(CKPT_DIR)/geossl_ddm_schnet.pt
	$(CLI) report table3 --preset $(PRESET) --store $(STORE_3D)
	@cat out/$(PRESET)/table3_comparison.md

# whole-data QM9 U0 from the GeoSSL checkpoint vs from scratch, 3 seeds
qm9-pretraining: pretrain3d
	$(CLI) sweep qm9_pretraining --preset $(PRESET) --store $(STORE_3D) --jobs $(JOBS) \
		--checkpoint $(CKPT_DIR)/geossl_ddm_painn.pt
	$(CLI) report qm9_pretraining --preset $(PRESET) --store $(STORE_3D)
	@cat out/$(PRESET)/qm9_pretraining.md

# The published CPU reproduction on all of HIV (docs/release.md#release-v1-hiv-cpu-v1). release-report rebuilds
# its table, comparison page, claims and Figure 4 from the committed records alone, offline, in seconds.
RELEASE ?= hiv-cpu-v1
RELEASE_STORE := results/releases/$(RELEASE)
release-checkpoint:
	$(CLI) pretrain --preset release --method graphmae --out checkpoints/release

# resumable, one run at a time on one core (nohup make release > release.log &); JOBS=2 for both cores
release: release-checkpoint
	$(CLI) sweep release --preset release --checkpoint checkpoints/release/graphmae.pt \
		--store $(RELEASE_STORE) --jobs $(if $(filter command line,$(origin JOBS)),$(JOBS),1) --threads 1

# one self-contained page of the preset's Tables 1-3, claims, figures, settings and versions: out/$(PRESET)/index.html
report-html:
	$(CLI) report html --preset $(PRESET)

# Release v2 (results/releases/hiv-cpu-v2): every Table 1 row at 5 seeds, where the code bundle changes it also under
# --fidelity code, the claim rows at 10; from the checkpoint committed beside its records. Resumable, one run at a
# time on one core by default (JOBS=2 for both).
RELEASE_V2_STORE := results/releases/hiv-cpu-v2
release-v2:
	$(CLI) sweep --config $(RELEASE_V2_STORE)/grid.toml --store $(RELEASE_V2_STORE) --jobs $(if $(filter command line,$(origin JOBS)),$(JOBS),1) --threads 1

# the cells a release expects: v1's named grid; later releases' committed grid file beside their records
RELEASE_GRID := $(if $(filter hiv-cpu-v1,$(RELEASE)),--grid release,--config $(RELEASE_STORE)/grid.toml)
release-report:
	$(CLI) report release --preset release --store $(RELEASE_STORE) --out out/release/$(RELEASE) $(RELEASE_GRID)
	@cat out/release/$(RELEASE)/release.md

# a new release's MANIFEST.sha256 (the sha256 of every published file), written once its records are final;
# release-report refuses a release that differs from it
release-manifest:
	$(PY) -m molpeg_bench.results.manifest write $(RELEASE_STORE)

# the paper model on full HIV on one GPU: epoch time, utilisation, peak memory, eval speed, same record twice
gpu-check:
	$(PY) -m molpeg_bench.bench.gpu_check --preset paper --device cuda --epochs 2 --out out/gpu_check.json
