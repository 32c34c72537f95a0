from setuptools import find_packages, setup

setup(
    name='cp2-mmseg',
    version='0.1.0',
    packages=find_packages(include=['cp2_mmseg', 'cp2_mmseg.*']),
    python_requires='>=3.8',
)
