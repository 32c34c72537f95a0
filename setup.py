from setuptools import find_packages, setup

# mmcv (with ops) and torch are not listed: like mmsegmentation, we leave
# them to the user's environment or scripts/install.sh, because pip cannot
# pick the build that matches the local torch / CUDA.
setup(
    name='cp2-mmseg',
    version='0.1.0',
    description='Pixel-level contrastive learning for semantic segmentation '
    '(CP2, pixel contrast with a memory bank) as an MMSegmentation 1.x plugin',
    packages=find_packages(include=['cp2_mmseg', 'cp2_mmseg.*']),
    python_requires='>=3.8',
    install_requires=[
        'mmengine>=0.10.0,<1.0.0',
        'mmsegmentation>=1.2.0,<2.0.0',
        'mmpretrain>=1.0.0,<2.0.0',
        'ftfy',
        'regex',
    ],
)
