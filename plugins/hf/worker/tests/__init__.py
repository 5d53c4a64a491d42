import os
import sys

# toymodel is imported by its plain name, as the worker's test loader does.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
