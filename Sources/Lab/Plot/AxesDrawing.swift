import Foundation

/// Measuring and drawing one host axes (with its twin, colour bar and legend) from its layout.
extension AxesLayout {
    // MARK: Margins

    private func widest(_ labels: [String], _ canvas: Canvas, size: Double = Style.tickFont) -> Double {
        labels.map { canvas.measure($0, size: size).width }.max() ?? 0
    }

    /// Height of the x tick labels band, rotated or not.
    private func xLabelBand(_ canvas: Canvas) -> Double {
        let lineHeight = canvas.measure("0", size: Style.tickFont).height
        guard showXTickLabels, !xTicks.labels.isEmpty else { return 0 }
        if xTicks.rotated {
            return widest(xTicks.labels, canvas) * sin(Style.rotatedLabelAngle)
                + lineHeight * cos(Style.rotatedLabelAngle)
        }
        return lineHeight
    }

    /// Whether x tick labels at their pixel positions for an axis `width` pixels wide would overlap.
    private func xLabelsOverlap(_ ticks: AxisTicks, width: Double, _ canvas: Canvas) -> Bool {
        let span = xLimits.upper - xLimits.lower
        let positions = ticks.major.map { (axes.xscale.forward($0) - xLimits.lower) / span * width }
        let widths = ticks.labels.map { canvas.measure($0, size: Style.tickFont).width }
        let gap = canvas.points(6)
        for index in positions.indices.dropFirst()
        where positions[index] - positions[index - 1] < (widths[index] + widths[index - 1]) / 2 + gap {
            return true
        }
        return false
    }

    /// Chooses x ticks for an axis `width` pixels wide: the most 1-2-5 ticks whose labels do not overlap;
    /// category labels that do not fit are rotated.
    func fitXTicks(width: Double, _ canvas: Canvas) {
        if axes.xTickOverride != nil {
            xTicks = makeTicks(xLimits, scale: axes.xscale, target: 0, override: axes.xTickOverride)
            xTicks.rotated = xLabelsOverlap(xTicks, width: width, canvas)
            return
        }
        var target = axes.xscale.isLogarithmic ? 10 : min(9, max(3, Int(width / canvas.points(45))))
        while true {
            xTicks = makeTicks(xLimits, scale: axes.xscale, target: target, override: nil,
                               integersOnly: axes.yInverted)
            if target <= 2 || !xLabelsOverlap(xTicks, width: width, canvas) { return }
            target -= 1
        }
    }

    /// Computes ticks and margins for a cell of `cell` pixels; returns the number of y ticks aimed at, which
    /// `sharedYTarget` overrides so that panels sharing a y-range also share their ticks.
    @discardableResult
    func measure(cell: Rect, _ canvas: Canvas, sharedYTarget: Int? = nil) -> Int {
        let labelHeight = canvas.measure("Ag", size: Style.labelFont).height
        let tickHeight = canvas.measure("0", size: Style.tickFont).height
        let tickSpace = canvas.points(Style.tickLength + Style.tickPad)
        let edge = canvas.points(Style.edgePad)
        // Provisional x ticks on an estimated width decide whether category labels rotate.
        fitXTicks(width: cell.width * 0.8, canvas)

        top = edge + (axes.title == nil ? 0 : canvas.measure("Ag", size: Style.titleFont).height
            + canvas.points(Style.titlePad))
        bottom = edge + (axes.xlabel == nil ? 0 : labelHeight + canvas.points(Style.labelPad))
        if axes.axisVisible {
            top += tickHeight / 2
            bottom += tickSpace + xLabelBand(canvas)
        }
        let height = max(cell.height - top - bottom, 10)
        let yTarget = sharedYTarget ?? min(8, max(3, Int(height / canvas.points(30))))
        yTicks = makeTicks(yLimits, scale: axes.yscale, target: yTarget, override: axes.yTickOverride,
                           integersOnly: axes.yInverted)
        if let twin = axes.twin, let twinLimits {
            twinTicks = makeTicks(twinLimits, scale: twin.yscale, target: yTarget, override: twin.yTickOverride)
        }
        if let colorbar = axes.colorbar {
            let limits = AxisLimits(lower: colorbar.lower, upper: colorbar.upper)
            colorbarTicks = makeTicks(limits, scale: .linear, target: yTarget, override: nil)
        }

        left = edge + (axes.ylabel == nil ? 0 : labelHeight + canvas.points(Style.labelPad))
        if axes.axisVisible {
            left += tickSpace + (showYTickLabels ? widest(yTicks.labels, canvas) : 0)
        }
        right = edge + rightDecorations(canvas)
        if axes.axisVisible, !xTicks.rotated, let last = xTicks.labels.last {
            right = max(right, edge + canvas.measure(last, size: Style.tickFont).width / 2)
        }
        if axes.axisVisible, !xTicks.rotated, let first = xTicks.labels.first {
            left = max(left, edge + canvas.measure(first, size: Style.tickFont).width / 2)
        }
        if xTicks.rotated, let first = xTicks.labels.first {
            left = max(left, edge + canvas.measure(first, size: Style.tickFont).width * cos(Style.rotatedLabelAngle))
        }
        return yTarget
    }

    /// Width of the twin axis and colour bar to the right of the frame.
    private func rightDecorations(_ canvas: Canvas) -> Double {
        let labelHeight = canvas.measure("Ag", size: Style.labelFont).height
        let tickSpace = canvas.points(Style.tickLength + Style.tickPad)
        var width = 0.0
        if let twin = axes.twin {
            width += tickSpace + widest(twinTicks.labels, canvas)
            if twin.ylabel != nil { width += canvas.points(Style.labelPad) + labelHeight }
        }
        if let colorbar = axes.colorbar {
            width += canvas.points(Style.colorbarGap + Style.colorbarWidth) + tickSpace
                + widest(colorbarTicks.labels, canvas)
            if colorbar.label != nil { width += canvas.points(Style.labelPad) + labelHeight }
        }
        return width
    }

    /// Shrinks the frame to one data unit per pixel on both axes, centred in the space it had.
    func applyEqualAspect() {
        guard axes.equalAspect else { return }
        let dataWidth = abs(xLimits.upper - xLimits.lower), dataHeight = abs(yLimits.upper - yLimits.lower)
        guard dataWidth > 0, dataHeight > 0 else { return }
        let scale = min(rect.width / dataWidth, rect.height / dataHeight)
        let width = dataWidth * scale, height = dataHeight * scale
        rect = Rect(x: rect.x + (rect.width - width) / 2, y: rect.y + (rect.height - height) / 2, width: width,
                    height: height)
    }

    // MARK: Drawing

    func draw(_ canvas: Canvas) {
        let frame = self.frame
        if axes.axisVisible && axes.grid { drawGrid(canvas, frame) }
        canvas.clipped(to: rect) {
            for mark in axes.marks { mark.draw(on: canvas, in: frame) }
            if let twin = axes.twin, let twinFrame {
                for mark in twin.marks { mark.draw(on: canvas, in: twinFrame) }
            }
        }
        if axes.axisVisible { drawAxes(canvas, frame) }
        drawLabels(canvas)
        drawColorbar(canvas)
        drawLegend(canvas)
    }

    private func drawGrid(_ canvas: Canvas, _ frame: Frame) {
        if axes.xTickOverride == nil {
            for value in xTicks.major {
                let x = frame.x(value)
                canvas.segment(Point(x: x, y: rect.minY), Point(x: x, y: rect.maxY), color: Style.gridColor, width: 0.6)
            }
        }
        if axes.yTickOverride == nil {
            for value in yTicks.major {
                let y = frame.y(value)
                canvas.segment(Point(x: rect.minX, y: y), Point(x: rect.maxX, y: y), color: Style.gridColor, width: 0.6)
            }
        }
    }

    private func drawAxes(_ canvas: Canvas, _ frame: Frame) {
        canvas.rectangle(Rect(x: rect.minX.rounded(.down) + 0.5, y: rect.minY.rounded(.down) + 0.5,
                              width: rect.width.rounded(), height: rect.height.rounded()),
                         fill: nil, stroke: Style.spineColor, width: Style.spineWidth)
        let length = canvas.points(Style.tickLength), minorLength = canvas.points(Style.minorTickLength)
        let labelOffset = length + canvas.points(Style.tickPad)
        // x-axis
        for value in xTicks.minor {
            let x = frame.x(value)
            canvas.segment(Point(x: x, y: rect.maxY), Point(x: x, y: rect.maxY + minorLength), color: Style.spineColor,
                           width: 0.6)
        }
        for (value, label) in zip(xTicks.major, xTicks.labels) {
            let x = frame.x(value)
            canvas.segment(Point(x: x, y: rect.maxY), Point(x: x, y: rect.maxY + length), color: Style.spineColor,
                           width: Style.spineWidth)
            guard showXTickLabels else { continue }
            if xTicks.rotated {
                canvas.text(label, at: Point(x: x, y: rect.maxY + labelOffset), size: Style.tickFont,
                            alignment: .right, baseline: .top, rotation: Style.rotatedLabelAngle)
            } else {
                canvas.text(label, at: Point(x: x, y: rect.maxY + labelOffset), size: Style.tickFont,
                            alignment: .center, baseline: .top)
            }
        }
        // y-axis (left), then the twin's (right)
        drawVerticalTicks(canvas, yTicks, at: rect.minX, direction: -1, map: frame.y, labels: showYTickLabels)
        if let twinFrame {
            drawVerticalTicks(canvas, twinTicks, at: rect.maxX, direction: 1, map: twinFrame.y, labels: true)
        }
    }

    private func drawVerticalTicks(_ canvas: Canvas, _ ticks: AxisTicks, at x: Double, direction: Double,
                                   map: (Double) -> Double, labels: Bool)
    {
        let length = canvas.points(Style.tickLength), minorLength = canvas.points(Style.minorTickLength)
        for value in ticks.minor {
            let y = map(value)
            canvas.segment(Point(x: x, y: y), Point(x: x + direction * minorLength, y: y), color: Style.spineColor,
                           width: 0.6)
        }
        for (value, label) in zip(ticks.major, ticks.labels) {
            let y = map(value)
            canvas.segment(Point(x: x, y: y), Point(x: x + direction * length, y: y), color: Style.spineColor,
                           width: Style.spineWidth)
            if labels {
                canvas.text(label, at: Point(x: x + direction * (length + canvas.points(Style.tickPad)), y: y),
                            size: Style.tickFont, alignment: direction < 0 ? .right : .left, baseline: .middle)
            }
        }
    }

    private func drawLabels(_ canvas: Canvas) {
        let tickSpace = canvas.points(Style.tickLength + Style.tickPad)
        let labelPad = canvas.points(Style.labelPad)
        if let title = axes.title {
            canvas.text(title, at: Point(x: rect.minX + rect.width / 2, y: rect.minY - canvas.points(Style.titlePad)),
                        size: Style.titleFont, alignment: .center, baseline: .bottom)
        }
        if let xlabel = axes.xlabel {
            let y = rect.maxY + (axes.axisVisible ? tickSpace + xLabelBand(canvas) : 0) + labelPad
            canvas.text(xlabel, at: Point(x: rect.minX + rect.width / 2, y: y), size: Style.labelFont,
                        alignment: .center, baseline: .top)
        }
        if let ylabel = axes.ylabel {
            let ticks = axes.axisVisible ? tickSpace + (showYTickLabels ? widest(yTicks.labels, canvas) : 0) : 0
            canvas.text(ylabel, at: Point(x: rect.minX - ticks - labelPad, y: rect.minY + rect.height / 2),
                        size: Style.labelFont, alignment: .center, baseline: .bottom, rotation: Double.pi / 2)
        }
        if let twin = axes.twin, let ylabel = twin.ylabel {
            let x = rect.maxX + tickSpace + widest(twinTicks.labels, canvas) + labelPad
            canvas.text(ylabel, at: Point(x: x, y: rect.minY + rect.height / 2), size: Style.labelFont,
                        alignment: .center, baseline: .top, rotation: Double.pi / 2)
        }
    }

    private func drawColorbar(_ canvas: Canvas) {
        guard let colorbar = axes.colorbar else { return }
        let tickSpace = canvas.points(Style.tickLength + Style.tickPad)
        var x = rect.maxX + canvas.points(Style.colorbarGap)
        if let twin = axes.twin {
            x += tickSpace + widest(twinTicks.labels, canvas)
            if twin.ylabel != nil {
                x += canvas.points(Style.labelPad) + canvas.measure("Ag", size: Style.labelFont).height
            }
        }
        let bar = Rect(x: x, y: rect.minY, width: canvas.points(Style.colorbarWidth), height: rect.height)
        let steps = 256
        canvas.pixels((0..<steps).map { colorbar.colorMap(1 - Double($0) / Double(steps - 1)) }, width: 1,
                      height: steps, into: bar)
        canvas.rectangle(Rect(x: bar.x.rounded(.down) + 0.5, y: bar.y.rounded(.down) + 0.5, width: bar.width.rounded(),
                              height: bar.height.rounded()), fill: nil, stroke: Style.spineColor, width: 0.6)
        let span = colorbar.upper - colorbar.lower
        let map: (Double) -> Double = { value in
            span > 0 ? bar.maxY - (value - colorbar.lower) / span * bar.height : bar.minY + bar.height / 2
        }
        drawVerticalTicks(canvas, colorbarTicks, at: bar.maxX, direction: 1, map: map, labels: true)
        if let label = colorbar.label {
            let labelX = bar.maxX + tickSpace + widest(colorbarTicks.labels, canvas) + canvas.points(Style.labelPad)
            canvas.text(label, at: Point(x: labelX, y: bar.minY + bar.height / 2), size: Style.labelFont,
                        alignment: .center, baseline: .top, rotation: Double.pi / 2)
        }
    }
}
