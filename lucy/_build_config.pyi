# meson generates _build_config.py from _build_config.py.in in the build
# directory; this stub gives type checkers its names in the source tree,
# which is what they read of an editable install. (Not installed: a wheel
# holds the generated module itself.)
version: str
openmp_option: str
