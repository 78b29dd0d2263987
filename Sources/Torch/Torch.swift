@_exported import CTorch
