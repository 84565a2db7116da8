"""Tests of the retrieval task type (a package so helpers here import as ``.reference``)."""
