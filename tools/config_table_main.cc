// config_table: prints the README's "Configuration" table (Markdown) to
// stdout. scripts/config_table.sh puts it into README.md between
// <!-- config-table:begin --> and <!-- config-table:end -->.
#include <iostream>

#include "tools/config_table.h"

int main(int argc, char** argv) {
  if (argc > 1) {
    std::cerr << "usage: " << argv[0] << "\n"
              << "Prints the README's configuration table (Markdown) to stdout.\n";
    return 2;
  }
  std::cout << tollgate::tools::ConfigurationTable();
  return 0;
}
