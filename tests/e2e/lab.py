"""What a person does on the hub, as Playwright actions (JupyterHub 6, JupyterLab 4, nbgrader 0.9).

Every wait is a locator with a timeout: an action returns once the page shows its result.
"""

import re

from playwright.sync_api import expect

SPAWN_TIMEOUT = 90_000  # ms: logging in starts a JupyterLab server with nbgrader's extensions
RUN_TIMEOUT = 120_000  # ms: running the whole notebook (about 5 s of work, on a busy machine)
GRADE_TIMEOUT = 120_000  # ms: nbgrader validate runs the notebook once more, server side
KERNEL = "Python 3 (ipykernel)"
PNG_DATA_URL = re.compile(r"^data:image/png;base64,")


def log_in(page, hub_url, account):
    fill_login_form(page, hub_url, account)
    submit_login(page, account)


def fill_login_form(page, hub_url, account):
    page.goto(f"{hub_url}/hub/login")
    page.locator("#username_input").fill(account.name)
    page.locator("#password_input").fill(account.password)


def submit_login(page, account):
    """Sign in; return once the account's JupyterLab has loaded (the hub starts it first)."""
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{account.name}/lab"), timeout=SPAWN_TIMEOUT)
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=SPAWN_TIMEOUT)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=SPAWN_TIMEOUT)


# -- menus and dialogs ----------------------------------------------------------------------


def open_menu(page, title):
    """Open a menu of the menu bar; return the open menu."""
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=exactly(title)).click()
    menu = page.locator(".lm-Menu").filter(visible=True)
    expect(menu).to_be_visible()
    return menu


def menu_items(menu):
    """The labels of an open menu's items, as shown (items of commands that do not exist are not)."""
    return [label.strip() for label in menu.locator(".lm-Menu-itemLabel").all_inner_texts() if label.strip()]


def choose(page, menu_title, item):
    """Click an item (by its label) of a menu of the menu bar."""
    menu = open_menu(page, menu_title)
    menu.locator(".lm-Menu-item").filter(has=page.locator(".lm-Menu-itemLabel", has_text=exactly(item))).click()


def exactly(text):
    return re.compile(rf"^{re.escape(text)}$")


def confirm_dialog(page, button):
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_have_count(0)


# -- nbgrader's Assignment List -------------------------------------------------------------


def open_assignment_list(page):
    choose(page, "Nbgrader", "Assignment List")
    expect(page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")).to_have_text("Assignments")


def assignments(page, status, count=1):
    """The rows of one list of the Assignment List (released, fetched or submitted), once loaded."""
    for part in ("loading", "placeholder", "error"):
        expect(page.locator(f"#{status}_assignments_list_{part}")).to_be_hidden()
    rows = page.locator(f"#{status}_assignments_list > .list_item")
    expect(rows).to_have_count(count)
    return rows


def show_tab(page, label):
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=label).click()


# -- notebooks ------------------------------------------------------------------------------


def code_cell_after(page, heading):
    """The code cell right below the markdown cell with this heading.

    (Code is found by the markdown around it: an editor off screen may not have drawn its text.)
    """
    return (
        page.locator(".jp-Notebook .jp-MarkdownCell")
        .filter(has=page.get_by_role("heading", name=heading))
        .locator("xpath=following-sibling::*[1]")
    )


def cell_showing(page, text):
    """The code cell with an output that contains ``text``."""
    output = page.locator(".jp-OutputArea-output", has_text=text)
    return page.locator(".jp-Notebook .jp-CodeCell").filter(has=output)


def wait_for_kernel(page, notebook):
    """Wait until ``notebook`` is the current tab and its kernel is connected and idle.

    (The toolbar's execution indicator says idle before there is a kernel: the status bar,
    "Python 3 (ipykernel) | Idle", is the one to read.)
    """
    expect(page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")).to_contain_text(notebook)
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text(f"{KERNEL} | Idle", timeout=SPAWN_TIMEOUT)


def run_all(page, finished):
    """Run > Run All Cells; return once ``finished`` shows and no prompt says ``[*]`` (queued).

    A cell that raises stops the run: the kernel skips the cells after it.
    """
    choose(page, "Run", "Run All Cells")
    expect(finished).to_be_visible(timeout=RUN_TIMEOUT)
    prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
    expect(prompts.filter(has_text="[*]")).to_have_count(0, timeout=RUN_TIMEOUT)


def save(page):
    """Save the open notebook with its toolbar's button (once in CI Ctrl+S had no effect);
    return once its tab no longer shows unsaved changes."""
    page.locator(".jp-NotebookPanel-toolbar:visible [data-command='docmanager:save']").click()
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    expect(tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"))


def run_in_new_cell(page, code):
    """Add a code cell at the end of the open notebook, type ``code`` into it and run it.

    Returns the cell's output area once the cell has run.
    """
    cells = page.locator(".jp-Notebook .jp-Cell")
    count = cells.count()
    cells.last.click()
    # The toolbar's button, not the B key: once in CI the key press added no cell.
    page.locator(".jp-NotebookPanel-toolbar:visible [data-command='notebook:insert-cell-below']").click()
    expect(cells).to_have_count(count + 1)
    cell = cells.nth(count)  # by position: "last" would move on to any cell added after it
    cell.locator(".cm-content").click()
    page.keyboard.type(code)
    page.keyboard.press("Control+Enter")  # run in place: no new cell below
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"), timeout=RUN_TIMEOUT)
    return cell.locator(".jp-OutputArea")


def error_outputs(page):
    """Outputs of exceptions, and of anything written to stderr."""
    return page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")


# -- nbgrader's formgrader (instructors) ----------------------------------------------------


def open_formgrader(page):
    """Nbgrader > Formgrader; return the formgrader's frame, showing the course's assignments."""
    choose(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator("iframe[src*='formgrader']")
    expect(formgrader.locator(".breadcrumb li").first).to_have_text("Assignments")
    return formgrader


def formgrader_row(formgrader, name):
    """The table row of an assignment (Manage Assignments) or a student (Manage Submissions)."""
    return formgrader.locator("tbody tr").filter(has_text=name)


def formgrader_modal(formgrader, text):
    """The formgrader's dialog once it has opened and says ``text`` (it fades in)."""
    modal = formgrader.locator(".modal.in .modal-dialog")
    expect(modal).to_contain_text(text, timeout=GRADE_TIMEOUT)
    expect(formgrader.locator(".modal.in")).to_have_css("opacity", "1")
    return modal


def close_modal(modal):
    modal.get_by_role("button", name="OK").click()
    expect(modal).to_have_count(0)
