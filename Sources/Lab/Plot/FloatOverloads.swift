import Foundation

/// [Float] entry points (tensor data is Float32); each widens to Double and forwards. They are disfavoured so
/// that integer literals such as `ax.line([1, 2, 3])` resolve to the [Double] versions.
extension Axes {
    /// `line` for Float data.
    @_disfavoredOverload
    public func line(_ x: [Float], _ y: [Float], label: String? = nil, color: Color? = nil, width: Double = 1.5,
                     dash: Dash = .solid, marker: Marker = .none, markerSize: Double = 5)
    {
        line(x.map(Double.init), y.map(Double.init), label: label, color: color, width: width, dash: dash,
             marker: marker, markerSize: markerSize)
    }

    /// `line(y)` for Float data.
    @_disfavoredOverload
    public func line(_ y: [Float], label: String? = nil, color: Color? = nil, width: Double = 1.5,
                     dash: Dash = .solid, marker: Marker = .none, markerSize: Double = 5)
    {
        line(y.map(Double.init), label: label, color: color, width: width, dash: dash, marker: marker,
             markerSize: markerSize)
    }

    /// `scatter` for Float data.
    @_disfavoredOverload
    public func scatter(_ x: [Float], _ y: [Float], label: String? = nil, color: Color? = nil, size: Double = 5,
                        sizes: [Float]? = nil, sizeRange: ClosedRange<Double> = 3...14, values: [Float]? = nil,
                        colorMap: ColorMap = .viridis, colorbarLabel: String? = nil, marker: Marker = .circle,
                        hollow: Bool = false, alpha: Double = 0.85)
    {
        scatter(x.map(Double.init), y.map(Double.init), label: label, color: color, size: size,
                sizes: sizes?.map(Double.init), sizeRange: sizeRange, values: values?.map(Double.init),
                colorMap: colorMap, colorbarLabel: colorbarLabel, marker: marker, hollow: hollow, alpha: alpha)
    }

    /// `errorbar` for Float data.
    @_disfavoredOverload
    public func errorbar(_ x: [Float], _ y: [Float], yerr: [Float], xerr: [Float]? = nil, label: String? = nil,
                         color: Color? = nil, marker: Marker = .circle, markerSize: Double = 5,
                         connected: Bool = true)
    {
        errorbar(x.map(Double.init), y.map(Double.init), yerr: yerr.map(Double.init), xerr: xerr?.map(Double.init),
                 label: label, color: color, marker: marker, markerSize: markerSize, connected: connected)
    }

    /// `band` for Float data.
    @_disfavoredOverload
    public func band(_ x: [Float], _ lower: [Float], _ upper: [Float], label: String? = nil, color: Color? = nil,
                     alpha: Double = 0.25)
    {
        band(x.map(Double.init), lower.map(Double.init), upper.map(Double.init), label: label, color: color,
             alpha: alpha)
    }

    /// `meanBand` for Float data.
    @_disfavoredOverload
    public func meanBand(_ x: [Float], runs: [[Float]], spread: Spread = .standardDeviation, label: String? = nil,
                         color: Color? = nil, width: Double = 1.5, dash: Dash = .solid, marker: Marker = .none,
                         alpha: Double = 0.22)
    {
        meanBand(x.map(Double.init), runs: runs.map { $0.map(Double.init) }, spread: spread, label: label,
                 color: color, width: width, dash: dash, marker: marker, alpha: alpha)
    }

    /// `histogram` for Float data.
    @_disfavoredOverload
    public func histogram(_ values: [Float], bins: Bins = .count(20), label: String? = nil, color: Color? = nil,
                          density: Bool = false, alpha: Double = 0.85)
    {
        histogram(values.map(Double.init), bins: bins, label: label, color: color, density: density, alpha: alpha)
    }

    /// `heatmap` for Float data.
    @_disfavoredOverload
    public func heatmap(_ matrix: [[Float]], colorMap: ColorMap = .viridis, range: ClosedRange<Double>? = nil,
                        rowLabels: [String]? = nil, columnLabels: [String]? = nil, annotationFormat: String? = nil,
                        colorbar showColorbar: Bool = true, colorbarLabel: String? = nil)
    {
        heatmap(matrix.map { $0.map(Double.init) }, colorMap: colorMap, range: range, rowLabels: rowLabels,
                columnLabels: columnLabels, annotationFormat: annotationFormat, colorbar: showColorbar,
                colorbarLabel: colorbarLabel)
    }

    /// `image` for Float data.
    @_disfavoredOverload
    public func image(_ pixels: [Float], width: Int, height: Int, channels: Int = 1, colorMap: ColorMap = .grey,
                      range: ClosedRange<Double>? = nil, colorbar showColorbar: Bool = false,
                      colorbarLabel: String? = nil)
    {
        image(pixels.map(Double.init), width: width, height: height, channels: channels, colorMap: colorMap,
              range: range, colorbar: showColorbar, colorbarLabel: colorbarLabel)
    }

    /// `imageGrid` for Float data.
    @_disfavoredOverload
    public func imageGrid(_ images: [[Float]], width: Int, height: Int, columns: Int, channels: Int = 1,
                          colorMap: ColorMap = .grey, range: ClosedRange<Double>? = nil, gap: Int = 1,
                          colorbar showColorbar: Bool = false, colorbarLabel: String? = nil)
    {
        imageGrid(images.map { $0.map(Double.init) }, width: width, height: height, columns: columns,
                  channels: channels, colorMap: colorMap, range: range, gap: gap, colorbar: showColorbar,
                  colorbarLabel: colorbarLabel)
    }
}
