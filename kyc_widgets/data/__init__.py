"""Data files shipped with the package: the sample campaign sheet of the analyst app."""
