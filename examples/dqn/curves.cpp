#include "dqn/curves.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace dqn {

std::string curves_svg(const std::vector<Curve>& curves, const std::string& title, double solved) {
  const double W = 720, H = 360, left = 56, right = 120, top = 36, bottom = 44;
  const double pw = W - left - right, ph = H - top - bottom;
  size_t episodes = 1;
  for (const Curve& c : curves) episodes = std::max(episodes, c.rewards.size());
  const double ymax = 210;
  auto X = [&](double ep) { return left + pw * ep / static_cast<double>(episodes); };
  auto Y = [&](double r) { return top + ph * (1 - std::clamp(r, 0.0, ymax) / ymax); };
  const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

  std::ostringstream s;
  char buf[160];
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << W / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << title << "</text>\n";
  for (int r = 0; r <= 200; r += 50) {
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, Y(r),
                  left + pw, Y(r));
    s << buf << "\n<text x=\"" << left - 6 << "\" y=\"" << Y(r) + 4 << "\" text-anchor=\"end\">" << r << "</text>\n";
  }
  size_t tick = episodes <= 200 ? 50 : episodes <= 1000 ? 100 : 500;
  for (size_t e = 0; e <= episodes; e += tick)
    s << "<text x=\"" << X(static_cast<double>(e)) << "\" y=\"" << top + ph + 16 << "\" text-anchor=\"middle\">" << e
      << "</text>\n";
  s << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 8 << "\" text-anchor=\"middle\">episode</text>\n";
  s << "<text x=\"14\" y=\"" << top + ph / 2 << "\" transform=\"rotate(-90 14 " << top + ph / 2
    << ")\" text-anchor=\"middle\">reward</text>\n";
  std::snprintf(buf, sizeof buf,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" stroke-dasharray=\"4 3\"/>", left,
                Y(solved), left + pw, Y(solved));
  s << buf << "\n";

  auto polyline = [&](const std::vector<double>& v, const char* color, double width, double opacity) {
    s << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"" << width << "\" stroke-opacity=\""
      << opacity << "\" points=\"";
    for (size_t i = 0; i < v.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", X(static_cast<double>(i + 1)), Y(v[i]));
      s << buf;
    }
    s << "\"/>\n";
  };
  for (size_t k = 0; k < curves.size(); ++k) polyline(curves[k].rewards, colors[k % 6], 0.8, 0.18);
  for (size_t k = 0; k < curves.size(); ++k) {
    polyline(curves[k].moving_avg, colors[k % 6], 2, 1);
    double ly = top + 16 + 18 * static_cast<double>(k);
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>",
                  left + pw + 10, ly, left + pw + 30, ly, colors[k % 6]);
    s << buf << "\n<text x=\"" << left + pw + 36 << "\" y=\"" << ly + 4 << "\">" << curves[k].label << "</text>\n";
  }
  double ly = top + 16 + 18 * static_cast<double>(curves.size()) + 8;
  s << "<text x=\"" << left + pw + 10 << "\" y=\"" << ly << "\" font-size=\"10\">bold: 100-episode</text>\n";
  s << "<text x=\"" << left + pw + 10 << "\" y=\"" << ly + 13 << "\" font-size=\"10\">average; faint:</text>\n";
  s << "<text x=\"" << left + pw + 10 << "\" y=\"" << ly + 26 << "\" font-size=\"10\">each episode;</text>\n";
  s << "<text x=\"" << left + pw + 10 << "\" y=\"" << ly + 39 << "\" font-size=\"10\">dashed: 195</text>\n";
  s << "</svg>\n";
  return s.str();
}

}  // namespace dqn
