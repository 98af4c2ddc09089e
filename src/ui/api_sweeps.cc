// api_sweeps.cc — the sweeps of the JSON API: the documents `roost sweeps list|show --json` print.
#include "http.h"
#include "roost/run/store.h"
#include "roost/sweep/documents.h"

namespace roost::ui {

void add_sweep_routes(httplib::Server& svr, const UiOptions& o) {
  svr.Get("/api/sweeps", guarded([o](const httplib::Request&, httplib::Response& res) {
            run::RunStore runs(o.workspace);
            sweep::SweepStore store(runs);
            send_json(res, sweep::sweeps_document(store));
          }));
  svr.Get(R"(/api/sweeps/(\d+))", guarded([o](const httplib::Request& req, httplib::Response& res) {
            const std::string v = req.matches[1];
            if (v.size() > 15) throw HttpError{404, "no sweep " + v};
            const int64_t id = std::stoll(v);
            run::RunStore runs(o.workspace);
            sweep::SweepStore store(runs);
            const sweep::SweepRecord s = store.get_sweep(id);
            // "plot" is where roost sweeps show writes the PNG; the page draws its own charts.
            send_json(res, sweep::sweep_document(s, sweep::sweep_view(store, id),
                                                 sweep::default_plot_path(runs.workspace(), id)));
          }));
}

}  // namespace roost::ui
