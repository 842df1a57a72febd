// Shared-data paths, temporary folders, runTool/runPython/gdaltransform (Tests/TestSupport): visible in
// every file of this target.
@_exported import TestSupport
