// Chapter 9's names for the engine's report tables (gnm/core/report_table.hpp).
#pragma once

#include "gnm/core/report_table.hpp"

namespace chapter9 {

using Cell = gnm::ReportCell;
using Table = gnm::ReportTable;
using Section = gnm::SectionResult;
using gnm::cells::flag;
using gnm::cells::integer;
using gnm::cells::num;
using gnm::cells::sci;
using gnm::cells::str;
using gnm::cells::yes_no;

}  // namespace chapter9
