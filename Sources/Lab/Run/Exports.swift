// A paper executable imports `Lab` and `LabRun`; LabRun brings along what every paper command uses: the
// report (Report, Claim, Table), the figures (LabPlot's Figure, which a Report writes as PNG) and
// ArgumentParser (for `@OptionGroup var options: RunOptions`), so paper targets need no further lines.
@_exported import ArgumentParser
@_exported import LabPlot
@_exported import LabReport

extension Figure: PNGWritable {}
