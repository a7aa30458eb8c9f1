"""Run the whole task-progress system with one command: python run_all.py --help"""
import sys

from launcher.cli import main

if __name__ == "__main__":
    sys.exit(main())
