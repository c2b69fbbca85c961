#!/usr/bin/env python3
"""Reference values for crates/optim/tests/reference.rs, written to reference.json beside this file.

    python3 crates/optim/tests/reference/make_reference.py > crates/optim/tests/reference/reference.json

This script is a second, independent implementation in plain Python (standard library only,
float64 like torch.float64 on CPU), transcribed line by line from PyTorch 2.15's own code, so
that regenerating the values (and CI) needs no torch. (When it was written, the only torch on
PyPI for this platform was the CUDA build; torch itself is now compared by hand, in a venv of
your own, by docs/torch_check/check_with_torch.py, which maps every optimiser to torch's.)

- optimisers: the `_single_tensor_*` functions of
  torch/optim/{sgd,adam,rmsprop,adagrad,nadam,radam,adamax,adadelta}.py (the
  path torch takes on CPU), with ATen's element formulas: `add(x, alpha=a)` is self + a*x,
  `addcmul_(t1, t2, value=v)` is self + v*t1*t2, `addcdiv_(t1, t2, value=v)` is self + v*t1/t2,
  and `lerp_(end, w)` is self + w*(end - self) for w < 0.5, else end - (end - self)*(1 - w).
  AdamW is Adam with `decoupled_weight_decay=True` (torch/optim/adamw.py).
- schedules: the *recursive* `get_lr` of torch/optim/lr_scheduler.py (StepLR, MultiStepLR,
  ExponentialLR, CosineAnnealingLR, LinearLR), driven as LRScheduler drives them (an initial step
  in the constructor, `_is_initial`, `_step_count`), warm-up through SequentialLR's own logic
  (reset, undo, `_update_lr(0)` with the closed form at the milestone), and ReduceLROnPlateau's
  `step`. The Rust code uses the closed forms, so this also checks that they agree.
- clipping: torch.nn.utils.clip_grad_norm_ / clip_grad_value_.

Two things have no PyTorch class and follow our documented semantics: `constant` (LambdaLR with
a factor of 1) and warm-up before reduce_on_plateau (SequentialLR refuses ReduceLROnPlateau; ours
ignores warm-up costs and starts the plateau logic at the base lr on epoch W).

Every optimiser case runs 3 parameters for 8 steps (RAdam's rectified step starts at step 6 at
the earliest) on fixed gradients (constants, not functions
of the parameters, given as p.grad). Configs are TOML text in our `[optim]` format, so the test
also checks parsing and defaults: a "default" case names only `kind`, and its expected values
come from PyTorch's defaults written here, not from the Rust code.
"""

import bisect
import json
import math
from collections import Counter

PARAMS0 = [0.5, -1.5, 2.0]
GRADS = [
    [0.3, -1.2, 2.5e-4],
    [-0.1, -0.8, 3.0e-4],
    [0.25, 0.4, -2.0e-4],
    [0.05, -0.3, 1.0e-4],
    [-0.2, 0.9, 5.0e-5],
    [0.15, -0.5, -1.0e-4],
    [-0.05, 0.7, 2.0e-4],
    [0.1, -0.6, 1.5e-4],
]

# PyTorch's defaults (torch.optim.* signatures), written out independently of the Rust code.
DEFAULTS = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    "adam": dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False),
    "adamw": dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False),
    "nadam": dict(lr=2e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False),
    "radam": dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False),
    "adamax": dict(lr=2e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, maximize=False),
    "adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
}


# ---------------------------------------------------------------------------------------------
# ATen element formulas


def lerp(start, end, weight):
    return start + weight * (end - start) if weight < 0.5 else end - (end - start) * (1 - weight)


# ---------------------------------------------------------------------------------------------
# Optimisers: one object per run, `step(params, grads, lr)` mutates params in place.


class SGD:
    def __init__(self, n, lr, momentum, dampening, weight_decay, nesterov, maximize):
        self.momentum, self.dampening, self.weight_decay, self.nesterov = momentum, dampening, weight_decay, nesterov
        self.maximize = maximize
        self.momentum_buffer_list = [None] * n

    def step(self, params, grads, lr):
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param
            if self.momentum != 0:
                buf = self.momentum_buffer_list[i]
                if buf is None:
                    buf = grad
                else:
                    buf = buf * self.momentum
                    buf = buf + (1 - self.dampening) * grad
                self.momentum_buffer_list[i] = buf
                if self.nesterov:
                    grad = grad + self.momentum * buf
                else:
                    grad = buf
            params[i] = param + (-lr) * grad


class Adam:
    def __init__(self, n, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=False):
        self.beta1, self.beta2 = betas
        self.maximize = maximize
        self.eps, self.weight_decay, self.amsgrad = eps, weight_decay, amsgrad
        self.decoupled_weight_decay = decoupled_weight_decay
        self.exp_avgs = [0.0] * n
        self.exp_avg_sqs = [0.0] * n
        self.max_exp_avg_sqs = [0.0] * n
        self.state_steps = [0.0] * n  # torch keeps `step` as a float tensor

    def step(self, params, grads, lr):
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            self.state_steps[i] += 1
            if self.weight_decay != 0:
                if self.decoupled_weight_decay:
                    param = param * (1 - lr * self.weight_decay)
                else:
                    grad = grad + self.weight_decay * param
            self.exp_avgs[i] = lerp(self.exp_avgs[i], grad, 1 - beta1)
            self.exp_avg_sqs[i] = self.exp_avg_sqs[i] * beta2 + (1 - beta2) * grad * grad
            step = self.state_steps[i]
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if self.amsgrad:
                self.max_exp_avg_sqs[i] = max(self.max_exp_avg_sqs[i], self.exp_avg_sqs[i])
                denom = math.sqrt(self.max_exp_avg_sqs[i]) / bias_correction2_sqrt + eps
            else:
                denom = math.sqrt(self.exp_avg_sqs[i]) / bias_correction2_sqrt + eps
            params[i] = param + (-step_size) * self.exp_avgs[i] / denom


class AdamW(Adam):
    def __init__(self, n, lr, betas, eps, weight_decay, amsgrad, maximize):
        super().__init__(n, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True)


class RMSprop:
    def __init__(self, n, lr, alpha, eps, weight_decay, momentum, centered, maximize):
        self.alpha, self.eps, self.weight_decay, self.momentum, self.centered = alpha, eps, weight_decay, momentum, centered
        self.maximize = maximize
        self.square_avgs = [0.0] * n
        self.grad_avgs = [0.0] * n
        self.momentum_buffer_list = [0.0] * n

    def step(self, params, grads, lr):
        alpha = self.alpha
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param
            self.square_avgs[i] = self.square_avgs[i] * alpha + (1 - alpha) * grad * grad
            if self.centered:
                self.grad_avgs[i] = lerp(self.grad_avgs[i], grad, 1 - alpha)
                avg = math.sqrt(self.square_avgs[i] + (-1) * self.grad_avgs[i] * self.grad_avgs[i])
            else:
                avg = math.sqrt(self.square_avgs[i])
            avg = avg + self.eps
            if self.momentum > 0:
                self.momentum_buffer_list[i] = self.momentum_buffer_list[i] * self.momentum + 1 * grad / avg
                params[i] = param + (-lr) * self.momentum_buffer_list[i]
            else:
                params[i] = param + (-lr) * grad / avg


class Adagrad:
    def __init__(self, n, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize):
        self.lr_decay, self.weight_decay, self.eps = lr_decay, weight_decay, eps
        self.maximize = maximize
        self.state_sums = [initial_accumulator_value] * n
        self.state_steps = [0.0] * n

    def step(self, params, grads, lr):
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            self.state_steps[i] += 1
            step = self.state_steps[i]
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param
            clr = lr / (1 + (step - 1) * self.lr_decay)
            self.state_sums[i] = self.state_sums[i] + 1 * grad * grad
            std = math.sqrt(self.state_sums[i]) + self.eps
            params[i] = param + (-clr) * grad / std


class NAdam:
    """torch/optim/nadam.py `_single_tensor_nadam`; `mu_product` and `step` are float64 scalars
    (torch's `_get_scalar_dtype()` with float64 as the default dtype)."""

    def __init__(self, n, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay, self.momentum_decay = eps, weight_decay, momentum_decay
        self.decoupled_weight_decay, self.maximize = decoupled_weight_decay, maximize
        self.exp_avgs = [0.0] * n
        self.exp_avg_sqs = [0.0] * n
        self.mu_products = [1.0] * n
        self.state_steps = [0.0] * n

    def step(self, params, grads, lr):
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            self.state_steps[i] += 1
            step = self.state_steps[i]
            bias_correction2 = 1 - beta2**step
            if self.weight_decay != 0:
                if self.decoupled_weight_decay:
                    param = param * (1 - lr * self.weight_decay)
                else:
                    grad = grad + self.weight_decay * param
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * self.momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * self.momentum_decay)))
            self.mu_products[i] *= mu
            self.exp_avgs[i] = lerp(self.exp_avgs[i], grad, 1 - beta1)
            self.exp_avg_sqs[i] = self.exp_avg_sqs[i] * beta2 + (1 - beta2) * grad * grad
            denom = math.sqrt(self.exp_avg_sqs[i] / bias_correction2)
            mu_product_next = self.mu_products[i] * mu_next
            denom = denom + eps
            param = param + (-lr * (1.0 - mu) / (1.0 - self.mu_products[i])) * grad / denom
            param = param + ((-lr * mu_next) / (1.0 - mu_product_next)) * self.exp_avgs[i] / denom
            params[i] = param


class RAdam:
    """torch/optim/radam.py `_single_tensor_radam`. `scalar / tensor` is torch's `__rtruediv__`,
    `tensor.reciprocal() * scalar`."""

    def __init__(self, n, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize):
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.decoupled_weight_decay, self.maximize = decoupled_weight_decay, maximize
        self.exp_avgs = [0.0] * n
        self.exp_avg_sqs = [0.0] * n
        self.state_steps = [0.0] * n

    def step(self, params, grads, lr):
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            self.state_steps[i] += 1
            step = self.state_steps[i]
            if self.weight_decay != 0:
                if self.decoupled_weight_decay:
                    param = param * (1 - lr * self.weight_decay)
                else:
                    grad = grad + self.weight_decay * param
            self.exp_avgs[i] = lerp(self.exp_avgs[i], grad, 1 - beta1)
            self.exp_avg_sqs[i] = self.exp_avg_sqs[i] * beta2 + (1 - beta2) * grad * grad
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            bias_corrected_exp_avg = self.exp_avgs[i] / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                exp_avg_sq_sqrt = math.sqrt(self.exp_avg_sqs[i]) + eps
                adaptive_lr = (1.0 / exp_avg_sq_sqrt) * (bias_correction2**0.5)
                param = param + (-1.0) * (bias_corrected_exp_avg * lr * adaptive_lr * rect)
            else:
                param = param + (-1.0) * (bias_corrected_exp_avg * lr)
            params[i] = param


class Adamax:
    """torch/optim/adamax.py `_single_tensor_adamax`."""

    def __init__(self, n, lr, betas, eps, weight_decay, maximize):
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay, self.maximize = eps, weight_decay, maximize
        self.exp_avgs = [0.0] * n
        self.exp_infs = [0.0] * n
        self.state_steps = [0.0] * n

    def step(self, params, grads, lr):
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            self.state_steps[i] += 1
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param
            self.exp_avgs[i] = lerp(self.exp_avgs[i], grad, 1 - self.beta1)
            self.exp_infs[i] = max(self.exp_infs[i] * self.beta2, abs(grad) + self.eps)
            bias_correction = 1 - self.beta1 ** self.state_steps[i]
            clr = lr / bias_correction
            params[i] = param + (-clr) * self.exp_avgs[i] / self.exp_infs[i]


class Adadelta:
    """torch/optim/adadelta.py `_single_tensor_adadelta`."""

    def __init__(self, n, lr, rho, eps, weight_decay, maximize):
        self.rho, self.eps, self.weight_decay, self.maximize = rho, eps, weight_decay, maximize
        self.square_avgs = [0.0] * n
        self.acc_deltas = [0.0] * n

    def step(self, params, grads, lr):
        rho, eps = self.rho, self.eps
        for i, param in enumerate(params):
            grad = grads[i] if not self.maximize else -grads[i]
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param
            self.square_avgs[i] = self.square_avgs[i] * rho + (1 - rho) * grad * grad
            std = math.sqrt(self.square_avgs[i] + eps)
            delta = math.sqrt(self.acc_deltas[i] + eps)
            delta = delta / std * grad
            self.acc_deltas[i] = self.acc_deltas[i] * rho + (1 - rho) * delta * delta
            params[i] = param + (-lr) * delta


OPTIMIZERS = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "nadam": NAdam,
    "radam": RAdam,
    "adamax": Adamax,
    "adadelta": Adadelta,
}


# ---------------------------------------------------------------------------------------------
# LR schedulers, driven like torch.optim.lr_scheduler.LRScheduler on one param group.


class Group:
    """The optimiser's param group: the lr every scheduler reads and writes."""

    def __init__(self, lr):
        self.lr = lr
        self.initial_lr = lr


class LRScheduler:
    def __init__(self, group):
        self.group = group
        self.base_lr = group.initial_lr
        self.last_epoch = -1
        self._is_initial = False
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def step(self):
        self._step_count += 1
        self._update_lr(None)

    def _update_lr(self, epoch):
        if epoch is None:
            self.last_epoch += 1
            value = self.get_lr()
        else:
            self.last_epoch = epoch
            value = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        self.group.lr = value


class ConstantLR_(LRScheduler):
    """`constant`: LambdaLR(lambda epoch: 1.0)."""

    def get_lr(self):
        return self.base_lr * 1.0


class StepLR(LRScheduler):
    def __init__(self, group, step_size, gamma=0.1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(group)

    def get_lr(self):
        if (self.last_epoch == 0) or (self.last_epoch % self.step_size != 0):
            return self.group.lr
        return self.group.lr * self.gamma

    def _get_closed_form_lr(self):
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class MultiStepLR(LRScheduler):
    def __init__(self, group, milestones, gamma=0.1):
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(group)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self.group.lr
        return self.group.lr * self.gamma ** self.milestones[self.last_epoch]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return self.base_lr * self.gamma ** bisect.bisect_right(milestones, self.last_epoch)


class ExponentialLR(LRScheduler):
    def __init__(self, group, gamma):
        self.gamma = gamma
        super().__init__(group)

    def get_lr(self):
        if self._is_initial:
            return self.group.lr
        return self.group.lr * self.gamma

    def _get_closed_form_lr(self):
        return self.base_lr * self.gamma**self.last_epoch


class CosineAnnealingLR(LRScheduler):
    def __init__(self, group, T_max, eta_min=0.0):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(group)

    def get_lr(self):
        if self._is_initial:
            return self.group.lr
        elif self._step_count == 1 and self.last_epoch > 0:
            return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos((self.last_epoch) * math.pi / self.T_max)) / 2
        elif (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return self.group.lr + (self.base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
        return (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / (
            1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)
        ) * (self.group.lr - self.eta_min) + self.eta_min

    def _get_closed_form_lr(self):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2


class LinearLR(LRScheduler):
    def __init__(self, group, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(group)

    def get_lr(self):
        if self.last_epoch == 0:
            return self.group.lr * self.start_factor
        if self._is_initial or self.last_epoch > self.total_iters:
            return self.group.lr
        return self.group.lr * (
            1.0
            + (self.end_factor - self.start_factor)
            / (self.total_iters * self.start_factor + (self.last_epoch - 1) * (self.end_factor - self.start_factor))
        )


class SequentialLR:
    def __init__(self, group, schedulers, milestones):
        self.group, self._schedulers, self._milestones = group, schedulers, milestones
        self.last_epoch = 0
        group.lr = group.initial_lr
        for s in schedulers:
            s.last_epoch -= 1
        idx = bisect.bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()

    def step(self, _cost=None):
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()


class ReduceLROnPlateau:
    def __init__(self, group, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        assert factor < 1.0
        self.group = group
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.min_lr = min_lr
        self.last_epoch = 0
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics):
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old_lr = float(self.group.lr)
            new_lr = max(old_lr * self.factor, self.min_lr)
            if old_lr - new_lr > self.eps:
                self.group.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        elif self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        elif self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold


class WarmupThenPlateau:
    """Our composition (no PyTorch class): LinearLR for W epochs, then ReduceLROnPlateau from the
    base lr, shown only the costs of epochs W, W+1, …"""

    def __init__(self, group, warmup_epochs, start_factor, plateau_args):
        self.group, self.warmup_epochs = group, warmup_epochs
        self.linear = LinearLR(group, start_factor=start_factor, total_iters=warmup_epochs)
        self.plateau_args = plateau_args
        self.plateau = None
        self.epoch = 0

    def step(self, cost):
        self.epoch += 1
        if self.epoch < self.warmup_epochs:
            self.linear.step()
        elif self.epoch == self.warmup_epochs:
            self.group.lr = self.group.initial_lr
            self.plateau = ReduceLROnPlateau(self.group, **self.plateau_args)
        else:
            self.plateau.step(cost)


def make_scheduler(group, schedule):
    """The PyTorch scheduler for one of our `[optim.schedule]` tables (a dict)."""
    schedule = dict(schedule)
    kind = schedule.pop("kind")
    warmup_epochs = schedule.pop("warmup_epochs", 0)
    start_factor = schedule.pop("warmup_start_factor", 1.0 / 3)
    if kind == "reduce_on_plateau":
        if warmup_epochs:
            return WarmupThenPlateau(group, warmup_epochs, start_factor, schedule)
        return ReduceLROnPlateau(group, **schedule)

    def build():
        if kind == "constant":
            return ConstantLR_(group)
        if kind == "step":
            return StepLR(group, **schedule)
        if kind == "multistep":
            return MultiStepLR(group, **schedule)
        if kind == "exponential":
            return ExponentialLR(group, **schedule)
        if kind == "cosine":
            return CosineAnnealingLR(group, T_max=schedule["t_max"], eta_min=schedule.get("eta_min", 0.0))
        raise ValueError(kind)

    if not warmup_epochs:
        return build()
    linear = LinearLR(group, start_factor=start_factor, total_iters=warmup_epochs)
    return SequentialLR(group, [linear, build()], milestones=[warmup_epochs])


def step_scheduler(scheduler, cost):
    if isinstance(scheduler, (ReduceLROnPlateau, WarmupThenPlateau)):
        scheduler.step(cost)
    else:
        scheduler.step()


# ---------------------------------------------------------------------------------------------
# Cases


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def toml_config(kind, options, schedule=None):
    lines = [f'kind = "{kind}"'] + [f"{k} = {toml_value(v)}" for k, v in options.items()]
    if schedule is not None:
        lines.append("[schedule]")
        lines += [f"{k} = {toml_value(v)}" for k, v in schedule.items()]
    return "\n".join(lines) + "\n"


def run_optimizer(kind, options, schedule=None):
    args = dict(DEFAULTS[kind], **options)
    opt = OPTIMIZERS[kind](len(PARAMS0), **args)
    group = Group(args["lr"])
    scheduler = make_scheduler(group, schedule) if schedule else None
    params = list(PARAMS0)
    out = []
    for grads in GRADS:
        opt.step(params, grads, group.lr)
        if scheduler:
            step_scheduler(scheduler, 0.0)
        out.append(list(params))
    return out


OPTIMIZER_CASES = [
    ("sgd_default", "sgd", {}),
    ("sgd_momentum_dampening_weight_decay", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("adam_default", "adam", {}),
    ("adam_all_options", "adam", dict(lr=0.05, betas=[0.8, 0.6], eps=1e-3, weight_decay=0.1, amsgrad=True)),
    ("adam_l2", "adam", dict(lr=0.01, weight_decay=0.2)),
    ("adamw_default", "adamw", {}),
    ("adamw_all_options", "adamw", dict(lr=0.05, betas=[0.8, 0.6], eps=1e-3, weight_decay=0.3, amsgrad=True)),
    ("rmsprop_default", "rmsprop", {}),
    ("rmsprop_all_options", "rmsprop", dict(lr=0.02, alpha=0.8, eps=1e-3, weight_decay=0.1, momentum=0.7, centered=True)),
    ("rmsprop_centered", "rmsprop", dict(centered=True)),
    ("rmsprop_momentum", "rmsprop", dict(lr=0.005, momentum=0.5)),
    ("adagrad_default", "adagrad", {}),
    ("adagrad_all_options", "adagrad", dict(lr=0.1, lr_decay=0.2, weight_decay=0.1, initial_accumulator_value=0.4, eps=1e-3)),
    # maximize (every optimiser) and Adam's decoupled_weight_decay.
    ("sgd_maximize", "sgd", dict(lr=0.1, maximize=True)),
    ("sgd_maximize_momentum_weight_decay", "sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.05, maximize=True)),
    ("adam_maximize_l2_amsgrad", "adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("adam_decoupled_weight_decay", "adam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True)),
    ("adamw_maximize", "adamw", dict(lr=0.05, weight_decay=0.3, maximize=True)),
    ("rmsprop_maximize_centered_momentum", "rmsprop", dict(lr=0.02, momentum=0.7, centered=True, weight_decay=0.1, maximize=True)),
    ("adagrad_maximize", "adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    # Optimisers added in the thirtieth session (PyTorch's NAdam, RAdam, Adamax, Adadelta).
    ("nadam_default", "nadam", {}),
    ("nadam_all_options", "nadam", dict(lr=0.05, betas=[0.8, 0.6], eps=1e-3, weight_decay=0.1, momentum_decay=0.3)),
    ("nadam_decoupled_maximize", "nadam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, maximize=True)),
    ("radam_default", "radam", {}),
    ("radam_all_options", "radam", dict(lr=0.05, betas=[0.8, 0.9], eps=1e-3, weight_decay=0.1)),
    ("radam_decoupled_maximize", "radam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, maximize=True)),
    ("adamax_default", "adamax", {}),
    ("adamax_all_options", "adamax", dict(lr=0.05, betas=[0.8, 0.6], eps=1e-3, weight_decay=0.1)),
    ("adamax_maximize", "adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("adadelta_default", "adadelta", {}),
    ("adadelta_all_options", "adadelta", dict(lr=0.5, rho=0.6, eps=1e-4, weight_decay=0.1)),
    ("adadelta_maximize", "adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
]

# Optimiser + schedule, one step per epoch: the scheduled lr reaches the update (and AdamW's decay).
SCHEDULED_OPTIMIZER_CASES = [
    ("adamw_step_schedule", "adamw", dict(lr=0.05, weight_decay=0.5), dict(kind="step", step_size=2, gamma=0.5, warmup_epochs=1)),
    ("adagrad_exponential_schedule", "adagrad", dict(lr=0.1, lr_decay=0.1), dict(kind="exponential", gamma=0.7)),
    ("sgd_plateau_schedule", "sgd", dict(lr=0.1, momentum=0.5), dict(kind="reduce_on_plateau", patience=0, factor=0.5)),
    ("nadam_cosine_schedule", "nadam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True), dict(kind="cosine", t_max=4)),
    ("radam_step_schedule", "radam", dict(lr=0.05, betas=[0.8, 0.9]), dict(kind="step", step_size=3, gamma=0.5)),
]

EPOCHS = 12
FLAT = [0.0] * EPOCHS
PLATEAU_COSTS = [5.0, 4.0, 3.5, 3.4, 3.4, 3.39999, 3.41, 3.5, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3, 3.3]
SCORES = [0.1, 0.2, 0.24, 0.5, 0.52, 0.53, 0.54, 0.56, 0.6, 0.6, 0.6, 0.61, 0.62, 0.63, 0.64, 0.66, 0.7, 0.7, 0.7, 0.7]
NOISY = [3.0, 2.0, 2.5, 2.1, 1.9, 1.95, 1.8, 1.85, 1.9, 1.79, 1.8, 1.8, 1.2, 1.3, 1.3, 1.3, 1.3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]

SCHEDULE_CASES = [
    ("constant", dict(kind="constant"), FLAT),
    ("step", dict(kind="step", step_size=3, gamma=0.5), FLAT),
    ("step_default_gamma", dict(kind="step", step_size=4), FLAT),
    ("multistep", dict(kind="multistep", milestones=[2, 5, 5, 9], gamma=0.3), FLAT),
    ("multistep_default_gamma_unsorted", dict(kind="multistep", milestones=[7, 3]), FLAT),
    ("multistep_milestone_zero", dict(kind="multistep", milestones=[0, 4], gamma=0.5), FLAT),
    ("exponential", dict(kind="exponential", gamma=0.8), FLAT),
    ("cosine", dict(kind="cosine", t_max=10, eta_min=0.001), FLAT),
    ("cosine_default_eta_min", dict(kind="cosine", t_max=5), FLAT),
    ("plateau_default", dict(kind="reduce_on_plateau"), PLATEAU_COSTS),
    (
        "plateau_all_options_max_abs",
        dict(kind="reduce_on_plateau", mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=0.02, eps=1e-3),
        SCORES,
    ),
    ("plateau_min_rel_cooldown", dict(kind="reduce_on_plateau", factor=0.3, patience=1, threshold=0.01, cooldown=1, min_lr=0.001), NOISY),
    ("plateau_max_rel", dict(kind="reduce_on_plateau", mode="max", patience=1, threshold=0.05), SCORES),
    ("plateau_min_abs", dict(kind="reduce_on_plateau", patience=1, threshold=0.15, threshold_mode="abs"), NOISY),
    # Edges: with threshold 0 an equal value is no improvement (strict < and >), and a reduction
    # of exactly eps is not made (0.05 - 0.025 == 0.025 in binary too).
    ("plateau_min_rel_threshold_zero", dict(kind="reduce_on_plateau", patience=1, factor=0.5, threshold=0.0), FLAT),
    ("plateau_min_abs_threshold_zero", dict(kind="reduce_on_plateau", patience=1, threshold=0.0, threshold_mode="abs"), NOISY),
    ("plateau_max_abs_threshold_zero", dict(kind="reduce_on_plateau", mode="max", patience=0, threshold=0.0, threshold_mode="abs"), SCORES),
    ("plateau_reduction_of_eps", dict(kind="reduce_on_plateau", patience=0, factor=0.5, eps=0.025), FLAT),
    ("warmup_step", dict(kind="step", step_size=2, gamma=0.5, warmup_epochs=3), FLAT),
    ("warmup_cosine", dict(kind="cosine", t_max=6, eta_min=0.01, warmup_epochs=4, warmup_start_factor=0.1), FLAT),
    ("warmup_constant", dict(kind="constant", warmup_epochs=5), FLAT),
    ("warmup_exponential", dict(kind="exponential", gamma=0.9, warmup_epochs=2, warmup_start_factor=0.5), FLAT),
    ("warmup_multistep_milestone_zero", dict(kind="multistep", milestones=[0, 3], warmup_epochs=2), FLAT),
    ("warmup_plateau", dict(kind="reduce_on_plateau", patience=1, factor=0.5, warmup_epochs=3), NOISY),
]

SCHEDULE_BASE_LR = 0.1


def run_schedule(schedule, costs):
    group = Group(SCHEDULE_BASE_LR)
    scheduler = make_scheduler(group, schedule)
    lrs = [group.lr]
    for cost in costs:
        step_scheduler(scheduler, cost)
        lrs.append(group.lr)
    return lrs


def vector_norm(grads, norm_type):
    """torch.linalg.vector_norm of one vector: max |g| for inf, else (sum |g|^p)^(1/p)."""
    if norm_type == math.inf:
        return max(abs(g) for g in grads)
    if norm_type == 2.0:
        return math.sqrt(sum(g * g for g in grads))
    return sum(abs(g) ** norm_type for g in grads) ** (1.0 / norm_type)


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    total_norm = vector_norm(grads, norm_type)
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = min(clip_coef, 1.0)
    return total_norm, [g * clip_coef_clamped for g in grads]


def clip_grad_value(grads, clip_value):
    return [min(max(g, -clip_value), clip_value) for g in grads]


CLIP_NORM_CASES = [([3.0, -4.0, 12.0], 5.0), ([0.1, -0.2, 0.05], 1.0), ([1e-3, 2e-3, -2e-3], 3e-3), ([0.0, 0.0], 1.0)]
# (grads, max_norm, norm_type): torch's other p-norms; each clips (the norm is above max_norm).
CLIP_NORM_TYPE_CASES = [
    ([3.0, -4.0, 12.0], 5.0, math.inf),
    ([3.0, -4.0, 12.0], 5.0, 1.0),
    ([0.1, -0.2, 0.05], 0.15, 3.0),
    ([1e-3, 2e-3, -2e-3], 3e-3, 0.5),
]
CLIP_VALUE_CASES = [([3.0, -4.0, 0.5, -0.5], 1.0), ([0.1, -0.2, 0.05], 0.15)]


def main():
    optimizers = []
    for name, kind, options in OPTIMIZER_CASES:
        optimizers.append(dict(name=name, config=toml_config(kind, options), expected=run_optimizer(kind, options)))
    for name, kind, options, schedule in SCHEDULED_OPTIMIZER_CASES:
        expected = run_optimizer(kind, options, schedule)
        assert expected != run_optimizer(kind, options), name  # the schedule must matter
        optimizers.append(dict(name=name, config=toml_config(kind, options, schedule), expected=expected))

    # Adam with decoupled weight decay is AdamW.
    decoupled = dict(lr=0.05, weight_decay=0.3)
    assert run_optimizer("adam", dict(decoupled, decoupled_weight_decay=True)) == run_optimizer("adamw", decoupled)

    # Each option of an "all options" case must change the result, or the case would not test it.
    for name, kind, options in OPTIMIZER_CASES:
        base = run_optimizer(kind, options)
        for key in options:
            if key != "lr":
                reduced = {k: v for k, v in options.items() if k != key}
                assert run_optimizer(kind, reduced) != base, (name, key)

    schedules = []
    for name, schedule, costs in SCHEDULE_CASES:
        lrs = run_schedule(schedule, costs)
        config = toml_config("sgd", dict(lr=SCHEDULE_BASE_LR), schedule)
        schedules.append(dict(name=name, config=config, costs=costs, lrs=lrs))
        if schedule["kind"] != "constant":
            assert len(set(lrs)) > 1, name

    clip_norm = []
    for grads, max_norm in CLIP_NORM_CASES:
        total_norm, clipped = clip_grad_norm(grads, max_norm)
        clip_norm.append(dict(grads=grads, max_norm=max_norm, total_norm=total_norm, clipped=clipped))
    for grads, max_norm, norm_type in CLIP_NORM_TYPE_CASES:
        total_norm, clipped = clip_grad_norm(grads, max_norm, norm_type)
        assert total_norm > max_norm and total_norm != vector_norm(grads, 2.0), (grads, norm_type)
        # JSON has no infinity: "inf" as TOML writes it.
        p = "inf" if norm_type == math.inf else norm_type
        clip_norm.append(dict(grads=grads, max_norm=max_norm, norm_type=p, total_norm=total_norm, clipped=clipped))
    clip_value = [dict(grads=g, clip_value=v, clipped=clip_grad_value(g, v)) for g, v in CLIP_VALUE_CASES]

    out = dict(
        generator="crates/optim/tests/reference/make_reference.py (plain Python transcription of PyTorch 2.15)",
        params0=PARAMS0,
        grads=GRADS,
        schedule_base_lr=SCHEDULE_BASE_LR,
        optimizers=optimizers,
        schedules=schedules,
        clip_grad_norm=clip_norm,
        clip_grad_value=clip_value,
    )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
