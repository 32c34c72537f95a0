from .checkpoint import (checkpoint_safe_globals, load_checkpoint_checked,
                         register_safe_globals)
from .runtime import adapt_cfg_to_device, build_runner, init_cpu_process_group
from .transform_options import set_transform_options

__all__ = [
    'adapt_cfg_to_device', 'build_runner', 'checkpoint_safe_globals',
    'init_cpu_process_group', 'load_checkpoint_checked',
    'register_safe_globals', 'set_transform_options'
]
