"""The suite's lowest layer: files written whole or not at all (``fileio.atomic``; a write that runs out of
room is one error naming the file, ``fileio.disk_full``), artefacts verified against the sha256 written with
them (``fileio.checksums``), files of a shared folder read within a size bound and described by owner and mode
when they cannot be read (``fileio.reading``) and a package's public names imported from their modules on
first use (``fileio.lazy``).

It imports nothing of the suite (neither torch nor RDKit either), and every package may import it: the run
store and the claims of ``results`` and ``slurm`` as well as the caches of ``benchmark`` and ``pretrain``.
"""
