"""The hearing day guide's and the protocol mark's sentences (kk/ru/en), part of the one
catalogue: :mod:`.texts` merges :data:`GUIDE` into ``CATALOGUE``. Plain data, no imports."""

GUIDE: dict[str, dict[str, str]] = {
    # -- moments ("{time}" is HH:MM in court time) --------------------------------------------
    "guide.when.today": {"kk": "{time}", "ru": "{time}", "en": "{time}"},
    "guide.when.tomorrow": {"kk": "ертең {time}", "ru": "{time} завтра", "en": "{time} tomorrow"},
    "guide.when.yesterday": {"kk": "кеше {time}", "ru": "вчера в {time}", "en": "yesterday at {time}"},
    "guide.when.date": {"kk": "{date} {time}", "ru": "{date} {time}", "en": "{date} {time}"},

    # -- the one status of a hearing ----------------------------------------------------------
    "guide.status.cancelled": {"kk": "Отырыс болдырылмады", "ru": "Заседание отменено",
                               "en": "The hearing is cancelled"},
    "guide.status.ended": {"kk": "{time} отырысы аяқталды", "ru": "Заседание в {time} завершено",
                           "en": "The {time} hearing has ended"},
    "guide.status.suspended": {
        "kk": "Бейнеконференцбайланыс тоқтатыла тұрды: {reason}. {time} отырысы ол қайта рұқсат етілгенге дейін ВКБ-сыз",
        "ru": "ВКС приостановлена: {reason}. Заседание в {time} — без ВКС до её возобновления",
        "en": "VKS is suspended: {reason}. No VKS for the {time} hearing until it is resumed"},
    "guide.status.act": {
        "kk": "Техникалық мүмкіндіктің жоқтығы туралы акт жасалды: {time} отырысы ВКБ-сыз",
        "ru": "Составлен акт об отсутствии технической возможности: заседание в {time} — без ВКС",
        "en": "An act on the absence of technical possibility is drawn up: the {time} hearing goes without VKS"},
    "guide.status.in_hearing": {
        "kk": "Отырыс жүріп жатыр, «{far_side}» байланыста; аяқталуы {end}",
        "ru": "Идёт заседание, связь с «{far_side}» установлена; окончание в {end}",
        "en": "Hearing under way, connected to «{far_side}»; it ends at {end}"},
    "guide.status.connecting": {"kk": "«{far_side}» тарапымен байланыс орнатылып жатыр",
                                "ru": "Устанавливается связь с «{far_side}»",
                                "en": "Calling «{far_side}»"},
    "guide.status.session_running": {"kk": "«{far_side}» тарапымен сынақ сеансы жүріп жатыр",
                                     "ru": "Идёт тестовый сеанс с «{far_side}»",
                                     "en": "The test session with «{far_side}» is under way"},
    "guide.status.started_unconnected": {
        "kk": "{time} отырысы байланыссыз басталды: «{far_side}» тарапына қазір қосылыңыз немесе акт жасаңыз",
        "ru": "Заседание в {time} началось без связи: подключитесь к «{far_side}» сейчас или составьте акт",
        "en": "The {time} hearing has begun without a connection: connect to «{far_side}» now or draw up the act"},
    "guide.status.connect_not_ready": {
        "kk": "Қазір қосылыңыз, бірақ зал дайын емес: {reasons}",
        "ru": "Подключайтесь сейчас, но зал не готов: {reasons}",
        "en": "Connect now, but the room is not ready: {reasons}"},
    "guide.status.connect_late": {
        "kk": "Қосылу уақыты {until} аяқталды: «{far_side}» тарапына дереу қосылыңыз",
        "ru": "Окно подключения закрылось в {until}: немедленно подключитесь к «{far_side}»",
        "en": "The connection window closed at {until}: connect to «{far_side}» at once"},
    "guide.status.connect_now": {
        "kk": "Қазір қосылыңыз: «{far_side}», қосылу уақыты {until} дейін",
        "ru": "Подключайтесь сейчас: «{far_side}», окно подключения до {until}",
        "en": "Connect now: «{far_side}», the connection window closes at {until}"},
    "guide.status.connect_no_session": {
        "kk": "Ереже бұзылды: {time} отырысы үшін сынақ сеансы өткізілмеген. «{far_side}» тарапына қазір "
              "қосылыңыз (қосылу уақыты {until} дейін)",
        "ru": "Нарушение правил: тестовый сеанс к заседанию в {time} не проведён. Подключайтесь к «{far_side}» "
              "сейчас (окно подключения до {until})",
        "en": "Rule breach: no test session was held for the {time} hearing. Connect to «{far_side}» now "
              "(the connection window closes at {until})"},
    "guide.status.session_breach": {
        "kk": "Ереже бұзылды: {time} отырысына бір тәуліктен аз қалды, ал сынақ сеансы өткізілмеген "
              "(мерзімі: {deadline}). Сынақ сеансын қазір өткізіңіз",
        "ru": "Нарушение правил: до заседания в {time} меньше суток, а тестовый сеанс не проведён "
              "(срок: {deadline}). Проведите тестовый сеанс сейчас",
        "en": "Rule breach: the {time} hearing is less than a day away and no test session was held "
              "(due: {deadline}). Hold the test session now"},
    "guide.status.session_due": {
        "kk": "«{far_side}» тарапымен сынақ сеансы — мерзімі: {deadline}",
        "ru": "Тестовый сеанс с «{far_side}» — до {deadline}",
        "en": "Test session with «{far_side}» due by {deadline}"},
    "guide.status.not_ready": {
        "kk": "Зал {time} отырысына дайын емес: {reasons}. Ақаулықты жойыңыз",
        "ru": "Зал не готов к заседанию в {time}: {reasons}. Устраните неисправность",
        "en": "The room is not ready for the {time} hearing: {reasons}. Fix the fault"},
    "guide.status.ready": {
        "kk": "{time} отырысына дайын: қосылу {opens} – {until}",
        "ru": "Готов к заседанию в {time}: подключение с {opens} до {until}",
        "en": "Ready for the {time} hearing: connect from {opens} to {until}"},
    "guide.status.waiting_selftest": {
        "kk": "Сынақ сеансы өтті; өзін-өзі тексеру {selftest}, қосылу {opens} – {until}",
        "ru": "Тестовый сеанс проведён; самопроверка в {selftest}, подключение с {opens} до {until}",
        "en": "Test session held; the self-test runs at {selftest}, connect from {opens} to {until}"},

    # -- the timeline -------------------------------------------------------------------------
    "guide.step.test_session": {"kk": "Қарсы тараппен сынақ сеансы (кемінде бір тәулік бұрын)",
                                "ru": "Тестовый сеанс с противоположной стороной (не позднее чем за сутки)",
                                "en": "Test session with the far side (a day before at the latest)"},
    "guide.step.selftest": {"kk": "Залдың өзін-өзі тексеруі (қосылу уақытына дейін)",
                            "ru": "Самопроверка зала (до начала окна подключения)",
                            "en": "The room's self-test (before the connection window)"},
    "guide.step.connect": {"kk": "Қосылу (отырысқа 30–20 минут қалғанда)",
                           "ru": "Подключение (за 30–20 минут до начала)",
                           "en": "Connecting (30 to 20 minutes before the start)"},
    "guide.step.start": {"kk": "Отырыстың басталуы", "ru": "Начало заседания", "en": "The hearing starts"},
    "guide.step.end": {"kk": "Отырыстың аяқталуы", "ru": "Окончание заседания", "en": "The hearing ends"},
    "guide.state.done": {"kk": "Орындалды", "ru": "Выполнено", "en": "Done"},
    "guide.state.failed": {"kk": "Өтпеді", "ru": "Не пройдено", "en": "Failed"},
    "guide.state.now": {"kk": "Қазір", "ru": "Сейчас", "en": "Now"},
    "guide.state.missed": {"kk": "Мерзімі өтті", "ru": "Просрочено", "en": "Overdue"},
    "guide.state.later": {"kk": "Алда", "ru": "Впереди", "en": "Ahead"},
    "guide.room": {"kk": "Зал", "ru": "Зал", "en": "The room"},
    "guide.who": {"kk": "Кім орындайды: {actor}", "ru": "Кто выполняет: {actor}", "en": "Who does it: {actor}"},
    "guide.title": {"kk": "Отырыс күнінің жоспары", "ru": "План дня заседания", "en": "The hearing day"},
    "guide.created_breach": {
        "kk": "Отырыс сақталды, бірақ ережеге сай емес", "ru": "Заседание сохранено, но с нарушением правил",
        "en": "The hearing is saved, but it breaks the rules"},

    # -- the suspension banner (item 24) --------------------------------------------------------
    "suspension.banner": {
        "kk": "Бейнеконференцбайланыс тоқтатыла тұрды ({since}): {reason}. Тоқтата тұрған: {who}",
        "ru": "ВКС приостановлена ({since}): {reason}. Приостановил: {who}",
        "en": "VKS is suspended ({since}): {reason}. Suspended by: {who}"},

    # -- the protocol mark (item 21) --------------------------------------------------------------
    "mark.title": {"kk": "Хаттамаға белгі", "ru": "Отметка для протокола", "en": "Mark for the protocol"},
    "mark.print": {"kk": "Басып шығару", "ru": "Распечатать", "en": "Print"},
    "mark.heading": {
        "kk": "Бейнеконференцбайланысты қолдану туралы белгі",
        "ru": "Отметка о применении видеоконференцсвязи",
        "en": "Mark on the use of videoconferencing"},
    "mark.case": {"kk": "Іс № {case}, {date}", "ru": "Дело № {case}, {date}", "en": "Case No. {case}, {date}"},
    "mark.used": {
        "kk": "Сот отырысы {court}, {courtroom} залында, «{far_side}» ({number}) тарапымен "
              "бейнеконференцбайланыс арқылы өткізілді.",
        "ru": "Судебное заседание проведено с использованием видеоконференцсвязи: {court}, зал {courtroom} — "
              "«{far_side}» ({number}).",
        "en": "The hearing was held by videoconference: {court}, courtroom {courtroom} — «{far_side}» ({number})."},
    "mark.not_used": {
        "kk": "Бейнеконференцбайланыс қосылмады ({far_side}).",
        "ru": "Видеоконференцсвязь не устанавливалась ({far_side}).",
        "en": "No videoconference connection was made ({far_side})."},
    "mark.connected": {"kk": "Байланыс орнатылды: {time}", "ru": "Соединение установлено: {time}",
                       "en": "Connected: {time}"},
    "mark.disconnected": {"kk": "Байланыс аяқталды: {time}", "ru": "Соединение завершено: {time}",
                          "en": "Disconnected: {time}"},
    "mark.break": {"kk": "Техникалық үзіліс: {start} – {end}", "ru": "Технический перерыв: {start} – {end}",
                   "en": "Technical break: {start} – {end}"},
    "mark.reconnect": {"kk": "Қайта қосылу: {start} – {end}", "ru": "Повторное соединение: {start} – {end}",
                       "en": "Reconnection: {start} – {end}"},
    "mark.failed": {"kk": "Қарсы тарап жауап бермеді: {time}", "ru": "Противоположная сторона не ответила: {time}",
                    "en": "The far side did not answer: {time}"},
    "mark.total": {"kk": "Барлығы: {reconnects} рет қайта қосылу, {breaks} техникалық үзіліс",
                   "ru": "Всего: повторных соединений — {reconnects}, технических перерывов — {breaks}",
                   "en": "In all: {reconnects} reconnection(s), {breaks} technical break(s)"},
    "mark.open": {"kk": "жалғасуда", "ru": "продолжается", "en": "ongoing"},

    # -- live progress (the pages follow long work) --------------------------------------------
    "live.selftest": {"kk": "Өзін-өзі тексеру: {total} құрылғының {done} тексерілді",
                      "ru": "Самопроверка: проверено {done} из {total}", "en": "Self-test: {done} of {total} checked"},
    "live.device.checking": {"kk": "тексерілуде", "ru": "проверяется", "en": "being checked"},
    "live.device.ok": {"kk": "жарамды", "ru": "исправно", "en": "fine"},
    "live.device.fault": {"kk": "ақаулық", "ru": "неисправность", "en": "fault"},
    "live.session.selftest": {"kk": "Сынақ сеансы: зал құрылғыларын тексеру",
                              "ru": "Тестовый сеанс: проверка устройств зала",
                              "en": "Test session: checking the room's devices"},
    "live.session.calling": {"kk": "Сынақ сеансы: «{far_side}» тарапына қоңырау",
                             "ru": "Тестовый сеанс: вызов «{far_side}»", "en": "Test session: calling «{far_side}»"},
    "live.session.holding": {"kk": "Сынақ сеансы: «{far_side}» байланысы {seconds} с ұсталады",
                             "ru": "Тестовый сеанс: связь с «{far_side}» удерживается {seconds} с",
                             "en": "Test session: holding the call with «{far_side}» for {seconds} s"},
    "live.call.dialling": {"kk": "«{far_side}» тарапына қоңырау: жауап күтілуде ({timeout} с ішінен {seconds} с)",
                           "ru": "Вызов «{far_side}»: ожидание ответа ({seconds} с из {timeout})",
                           "en": "Calling «{far_side}»: waiting for an answer ({seconds} of {timeout} s)"},
    "live.call.connected": {"kk": "«{far_side}» тарапымен байланыс орнатылды", "ru": "Связь с «{far_side}» установлена",
                            "en": "Connected to «{far_side}»"},
    "live.call.none": {"kk": "Байланыс орнатылмаған", "ru": "Связь не установлена", "en": "Not connected"},
}
