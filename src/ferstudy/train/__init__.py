"""The training engine: data splits, devices, the epoch loop, checkpoints, outputs.

``ferstudy.train.run.train_run`` trains one grid point; ``ferstudy.train.pretrain`` trains the
source model that ``ft`` runs start from; ``ferstudy.train.predict`` loads finished runs.
"""
