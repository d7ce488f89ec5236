"""Pre-Train Your Loss (Shwartz-Ziv et al., 2022): fit a Gaussian prior over a backbone's weights with SWAG on a
source task, rescale it, and use it for Bayesian transfer (MAP and cyclical SGLD with model averaging).

Modules, one job each:

- :mod:`.density`  the priors' log-densities and the Trainer hook adding ``-log p(theta) / N_train`` to the loss;
- :mod:`.swag`     SWAG moments (mean, clamped diagonal variance, low-rank deviation factor) as a Trainer hook;
- :mod:`.files`    the ``<prior>_{model,mean,variance,covmat}.pt`` files and their parameter-order manifest;
- :mod:`.sgld`     the SGLD optimiser, the cyclical cosine schedule and the sample collector (BMA);
- :mod:`.networks` source / transfer networks (registry models, or torchvision's ResNet-50 for the paper);
- :mod:`.stages`   pretrain and fit_prior;
- :mod:`.transfer` the downstream grid: arms x inference x N per class, lambda chosen on validation;
- :mod:`.tables`   torch-free: the arms, transfer.csv and the transfer summary (for the collect job).
"""
