// A paper executable imports `Lab` and `LabRun` (and the plot module); LabRun brings along what every paper
// command uses: the report (Report, Claim, Table) and ArgumentParser (for `@OptionGroup var options:
// RunOptions`), so paper targets need no further dependency lines.
@_exported import ArgumentParser
@_exported import LabReport
