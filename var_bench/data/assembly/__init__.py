"""Raw upstream files -> tables -> Parquet + dataset card. One module per file format.

``captions`` (UCFCrime-AR xlsx), ``namelists`` (split lists), ``annotations`` (temporal segments),
``splits`` (the validation rule), ``ucfcrime`` / ``xdviolence`` (assemble one benchmark),
``schema`` (column types), ``card`` (dataset card), ``writer`` (atomic build folder).
"""
