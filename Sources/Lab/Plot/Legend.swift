import Foundation

/// The legend: one row per labelled mark of the axes and its twin (swatch, then label), placed where it hides
/// the least data.
extension AxesLayout {
    func drawLegend(_ canvas: Canvas) {
        guard axes.legend != .hidden else { return }
        let frame = self.frame
        var entries = axes.marks.filter { !($0.label ?? "").isEmpty }
        var occupied = axes.marks.flatMap { $0.occupiedPoints(in: frame) }
        if let twin = axes.twin, let twinFrame {
            entries += twin.marks.filter { !($0.label ?? "").isEmpty }
            occupied += twin.marks.flatMap { $0.occupiedPoints(in: twinFrame) }
        }
        guard !entries.isEmpty else { return }
        let rowHeight = canvas.measure("Ag", size: Style.legendFont).height * 1.25
        let pad = canvas.points(4), swatchWidth = canvas.points(18), gap = canvas.points(5)
        let textWidth = entries.map { canvas.measure($0.label!, size: Style.legendFont).width }.max() ?? 0
        let width = pad * 2 + swatchWidth + gap + textWidth, height = pad * 2 + rowHeight * Double(entries.count)
        let margin = canvas.points(5)
        let placement = axes.legend == .auto
            ? Self.leastCoveredPlacement(width: width, height: height, in: rect, occupied: occupied, margin: margin)
            : axes.legend
        let box = Self.legendRect(placement, width: width, height: height, in: rect, margin: margin)
        canvas.rectangle(box, fill: Color.white.withAlpha(0.88), stroke: Color(hex: 0xcccccc), width: 0.6)
        for (index, mark) in entries.enumerated() {
            let top = box.minY + pad + rowHeight * Double(index)
            mark.drawSwatch(on: canvas, in: Rect(x: box.minX + pad, y: top + rowHeight * 0.2, width: swatchWidth,
                                                 height: rowHeight * 0.6))
            canvas.text(mark.label!, at: Point(x: box.minX + pad + swatchWidth + gap, y: top + rowHeight / 2),
                        size: Style.legendFont, baseline: .middle)
        }
    }

    /// The legend box for `placement` inside `frame`, `margin` pixels from its edges.
    static func legendRect(_ placement: LegendPlacement, width: Double, height: Double, in frame: Rect,
                           margin: Double) -> Rect
    {
        let left = frame.minX + margin, right = frame.maxX - margin - width
        let center = frame.minX + (frame.width - width) / 2
        let upper = frame.minY + margin, lower = frame.maxY - margin - height
        let middle = frame.minY + (frame.height - height) / 2
        let origin: (Double, Double)
        switch placement {
        case .upperRight, .auto, .hidden: origin = (right, upper)
        case .upperLeft: origin = (left, upper)
        case .lowerLeft: origin = (left, lower)
        case .lowerRight: origin = (right, lower)
        case .centerRight: origin = (right, middle)
        case .centerLeft: origin = (left, middle)
        case .upperCenter: origin = (center, upper)
        case .lowerCenter: origin = (center, lower)
        }
        return Rect(x: origin.0, y: origin.1, width: width, height: height)
    }

    /// The placement whose box (grown by 2 pixels) covers the fewest `occupied` points; ties go to the earlier
    /// candidate: the corners (upper right first), then the edge centres.
    static func leastCoveredPlacement(width: Double, height: Double, in frame: Rect, occupied: [Point],
                                      margin: Double) -> LegendPlacement
    {
        let candidates: [LegendPlacement] = [.upperRight, .upperLeft, .lowerLeft, .lowerRight, .centerRight,
                                             .centerLeft, .upperCenter, .lowerCenter]
        var best = LegendPlacement.upperRight, bestScore = Int.max
        for placement in candidates {
            let box = legendRect(placement, width: width, height: height, in: frame, margin: margin).insetBy(-2)
            let score = occupied.reduce(0) { $0 + (box.contains($1) ? 1 : 0) }
            if score < bestScore {
                best = placement
                bestScore = score
            }
        }
        return best
    }
}
